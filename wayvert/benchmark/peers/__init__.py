"""The network of a wayvert engine run by its peers, on the engine's own weights (``wayvert.graph.dequantized``):

* ``torch_module`` — PyTorch eager fp32 (``torch.nn.functional`` per op);
* ``onnx_model`` — an ONNX graph of the float network (opset 17), for ONNX Runtime fp32;
* ``ort_int8`` — that graph quantized by ONNX Runtime (static QDQ, the settings of ``calibration.onnx_peer``).

Used by ``wayvert bench --compare`` and ``benches/``. Each module imports its framework when imported.
"""
