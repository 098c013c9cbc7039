"""The network of a wayvert engine run by its peers, on the engine's own weights (``wayvert.graph.dequantized``):

* ``onnx_model`` — an ONNX graph of the float network (opset 17), for ONNX Runtime fp32;
* ``ort_int8`` — that graph quantized by ONNX Runtime (static QDQ, the settings of ``calibration.onnx_peer``).

Used by ``wayvert bench --compare`` and ``benches/``. Each module imports its framework when imported. The PyTorch
peer lives in the toolchain (``wayvert.calibration.torch_peer``; the runtime never imports PyTorch) and is found
through the ``wayvert.bench_peers`` entry points (``wayvert.benchmark.torch_peer``).
"""
