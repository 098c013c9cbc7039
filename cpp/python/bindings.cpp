// wayvert._core: a thin pybind11 layer over the C API (wayvert.h). No logic lives here: every failure is a
// wv_status turned into the matching wayvert.errors class with the runtime's message intact.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <vector>

#include "wayvert/wayvert.h"

namespace py = pybind11;

namespace {

[[noreturn]] void raise_status(wv_status s) {
  py::object errors = py::module_::import("wayvert.errors");
  py::object cls = errors.attr("BY_STATUS").attr("get")(int(s), errors.attr("InternalError"));
  PyErr_SetString(cls.ptr(), wv_last_error());
  throw py::error_already_set();
}

void check(wv_status s) {
  if (s != WV_OK) raise_status(s);
}

const char* dtype_name(wv_dtype d) {
  switch (d) {
    case WV_F32: return "float32";
    case WV_I8: return "int8";
    case WV_I32: return "int32";
    case WV_U8: return "uint8";
  }
  return "unknown";
}

py::dict spec_dict(const wv_tensor_spec& s) {
  py::dict d;
  d["name"] = s.name;
  d["dtype"] = dtype_name(s.dtype);
  py::list shape;
  for (int i = 0; i < s.rank; ++i) shape.append(s.dims[i]);
  d["shape"] = py::tuple(shape);
  d["scale"] = s.scale;
  d["zero_point"] = s.zero_point;
  d["bytes"] = s.bytes;
  return d;
}

class SessionHandle;

class EngineHandle {
 public:
  explicit EngineHandle(wv_engine* e) : e_(e) {}
  ~EngineHandle() { wv_engine_release(e_); }
  EngineHandle(const EngineHandle&) = delete;
  EngineHandle& operator=(const EngineHandle&) = delete;
  wv_engine* get() const { return e_; }

  std::string meta() const {
    const char* json = nullptr;
    size_t n = 0;
    check(wv_engine_meta(e_, &json, &n));
    return std::string(json, n);
  }
  py::list specs(bool inputs) const {
    py::list out;
    const int32_t n = inputs ? wv_engine_input_count(e_) : wv_engine_output_count(e_);
    for (int32_t i = 0; i < n; ++i) {
      wv_tensor_spec s;
      check(inputs ? wv_engine_input_spec(e_, i, &s) : wv_engine_output_spec(e_, i, &s));
      out.append(spec_dict(s));
    }
    return out;
  }
  size_t packed_weight_bytes() const {
    size_t bytes = 0;
    check(wv_engine_packed_weight_bytes(e_, &bytes));
    return bytes;
  }
  py::tuple arena_bytes() const {
    size_t planned = 0, naive = 0;
    check(wv_engine_arena_bytes(e_, &planned, &naive));
    return py::make_tuple(planned, naive);
  }
  py::list op_names() const {
    py::list out;
    for (int32_t i = 0; i < wv_engine_op_count(e_); ++i) out.append(wv_engine_op_name(e_, i));
    return out;
  }
  // (op index, reason) of every op the CUDA executor cannot run.
  std::vector<std::pair<int32_t, std::string>> cuda_gaps() const {
    int32_t n = 0;
    check(wv_engine_cuda_gap_count(e_, &n));
    std::vector<std::pair<int32_t, std::string>> out;
    for (int32_t k = 0; k < n; ++k) {
      int32_t op = 0;
      const char* reason = nullptr;
      check(wv_engine_cuda_gap(e_, k, &op, &reason));
      out.emplace_back(op, reason);
    }
    return out;
  }

 private:
  wv_engine* e_;
};

class SessionHandle {
 public:
  // device: -1 for the CPU, else the CUDA device ordinal.
  SessionHandle(const EngineHandle& e, int32_t threads, int32_t cuda_device) : engine_(e.get()) {
    wv_session_options o = wv_session_options_default();
    o.threads = threads;
    if (cuda_device >= 0) {
      o.device = WV_DEVICE_CUDA;
      o.device_index = cuda_device;
    }
    wv_status st;
    {
      py::gil_scoped_release release;  // uploading weights and capturing the graph can take a while
      st = wv_session_create_with_options(e.get(), &o, &s_);
    }
    check(st);
  }
  int32_t threads() const { return wv_session_threads(s_); }
  void set_profiling(bool enabled) { check(wv_session_set_profiling(s_, enabled ? 1 : 0)); }
  // (nanoseconds, runs) of every op of the plan, in order.
  std::vector<std::pair<uint64_t, int64_t>> op_times() const {
    std::vector<std::pair<uint64_t, int64_t>> out;
    for (int32_t i = 0; i < wv_engine_op_count(engine_); ++i) {
      uint64_t ns = 0;
      int64_t runs = 0;
      check(wv_session_op_time(s_, i, &ns, &runs));
      out.emplace_back(ns, runs);
    }
    return out;
  }
  ~SessionHandle() { wv_session_release(s_); }
  SessionHandle(const SessionHandle&) = delete;
  SessionHandle& operator=(const SessionHandle&) = delete;

  // `a` must already be C-contiguous with the spec's dtype (the Python layer checks names, dtypes, shapes).
  void set_input(int32_t index, const py::buffer& a) {
    py::buffer_info info = a.request();
    const size_t bytes = size_t(info.size) * size_t(info.itemsize);
    check(wv_session_set_input(s_, index, info.ptr, bytes));
  }
  void run() {
    wv_status st;
    {
      py::gil_scoped_release release;
      st = wv_session_run(s_);
    }
    check(st);
  }
  // A fresh numpy array holding a copy of output `index` of the last run.
  py::array output(int32_t index) const {
    const void* data = nullptr;
    size_t bytes = 0;
    check(wv_session_output(s_, index, &data, &bytes));
    wv_tensor_spec spec;
    check(wv_engine_output_spec(engine_, index, &spec));
    std::vector<py::ssize_t> shape(spec.dims, spec.dims + spec.rank);
    py::array out(py::dtype(dtype_name(spec.dtype)), shape);
    std::memcpy(out.mutable_data(), data, bytes);
    return out;
  }
  void reset() { check(wv_session_reset(s_)); }

 private:
  wv_engine* engine_;  // kept alive by keep_alive<1, 2> on the constructor
  wv_session* s_ = nullptr;
};

// Verifier profile and limits cross as flat float lists in the C structs' field order.
template <typename T>
T struct_from_floats(const std::vector<float>& v) {
  static_assert(sizeof(T) % sizeof(float) == 0, "struct of floats only");
  if (v.size() != sizeof(T) / sizeof(float))
    throw py::value_error("expected " + std::to_string(sizeof(T) / sizeof(float)) + " values, got " + std::to_string(v.size()));
  T out;
  std::memcpy(&out, v.data(), sizeof(T));
  return out;
}

template <typename T>
std::vector<float> floats_of(const T& t) {
  std::vector<float> v(sizeof(T) / sizeof(float));
  std::memcpy(v.data(), &t, sizeof(T));
  return v;
}

using F32Array = py::array_t<float, py::array::c_style | py::array::forcecast>;

class VerifierHandle {
 public:
  VerifierHandle(const std::vector<float>& vehicle, const std::vector<float>& limits, int32_t max_modes,
                 int32_t max_points, int32_t max_objects, int32_t max_boundary_points) {
    const auto vp = struct_from_floats<wv_vehicle_profile>(vehicle);
    const auto lim = struct_from_floats<wv_verifier_limits>(limits);
    check(wv_verifier_create(&vp, &lim, max_modes, max_points, max_objects, max_boundary_points, &v_));
  }
  ~VerifierHandle() { wv_verifier_release(v_); }
  VerifierHandle(const VerifierHandle&) = delete;
  VerifierHandle& operator=(const VerifierHandle&) = delete;

  // Arrays arrive already shaped by the Python layer ([K,T,5], [K], [M,7], [L,2]).
  py::dict run(const F32Array& traj, const F32Array& scores, const std::vector<float>& ego, const F32Array& objects,
               const F32Array& left, const F32Array& right, bool wet) {
    wv_verifier_input in{};
    in.trajectories = traj.data();
    in.modes = int32_t(traj.shape(0));
    in.points = int32_t(traj.shape(1));
    in.scores = scores.data();
    in.ego = struct_from_floats<wv_ego_state>(ego);
    in.objects = objects.size() ? objects.data() : nullptr;
    in.object_count = int32_t(objects.size() / 7);
    in.left_boundary = left.size() ? left.data() : nullptr;
    in.left_count = int32_t(left.size() / 2);
    in.right_boundary = right.size() ? right.data() : nullptr;
    in.right_count = int32_t(right.size() / 2);
    in.wet = wet ? 1 : 0;
    wv_verdict v{};
    wv_status st;
    {
      py::gil_scoped_release release;
      st = wv_verifier_check(v_, &in, &v);
    }
    check(st);
    py::dict d;
    d["chosen"] = v.chosen;
    d["fallback_used"] = bool(v.fallback_used);
    d["fallback_reasons"] = v.fallback_reasons;
    d["fallback_self_reasons"] = v.fallback_self_reasons;
    d["trajectory"] = py::array_t<float>({py::ssize_t(v.points), py::ssize_t(5)}, v.trajectory);
    d["passed"] = py::array_t<uint8_t>({py::ssize_t(v.modes)}, v.passed);
    d["reasons"] = py::array_t<uint32_t>({py::ssize_t(v.modes)}, v.reasons);
    d["margins"] = py::array_t<float>({py::ssize_t(v.modes), py::ssize_t(WV_CHECK_COUNT)}, v.margins);
    return d;
  }

  py::array_t<float> fallback(const std::vector<float>& ego, int32_t points) {
    const auto e = struct_from_floats<wv_ego_state>(ego);
    py::array_t<float> out({py::ssize_t(points > 0 ? points : 0), py::ssize_t(5)});
    check(wv_verifier_fallback(v_, &e, points, out.mutable_data()));
    return out;
  }

 private:
  wv_verifier* v_ = nullptr;
};

// A sensor adapter; keeps the rig strings and structs it was opened with alive for the plugin.
class SensorAdapterHandle {
 public:
  // cameras: dicts with name, width, height, pixel_format, color_matrix (1|2), full_range, fps, model (1..3),
  // fx, fy, cx, cy, coeffs (5), fov_deg, translation_m (3), rotation_rpy_rad (3).
  SensorAdapterHandle(const std::string& plugin_path, const py::list& source, const py::list& virt,
                      const std::vector<float>& mean, const std::vector<float>& stddev, float scale, int32_t zero_point) {
    fill_rig(source, &src_strings_, &src_cams_, &src_rig_);
    fill_rig(virt, &virt_strings_, &virt_cams_, &virt_rig_);
    if (mean.size() != 3 || stddev.size() != 3) throw py::value_error("mean and std need 3 values");
    canonical_.rig = &virt_rig_;
    for (int c = 0; c < 3; ++c) {
      canonical_.mean[c] = mean[size_t(c)];
      canonical_.std[c] = stddev[size_t(c)];
    }
    canonical_.scale = scale;
    canonical_.zero_point = zero_point;
    wv_status st;
    {
      py::gil_scoped_release release;
      st = plugin_path.empty() ? wv_sensor_adapter_open_builtin(&src_rig_, &canonical_, &a_)
                               : wv_sensor_adapter_open_plugin(plugin_path.c_str(), &src_rig_, &canonical_, &a_);
    }
    check(st);
  }
  ~SensorAdapterHandle() { wv_sensor_adapter_release(a_); }
  SensorAdapterHandle(const SensorAdapterHandle&) = delete;
  SensorAdapterHandle& operator=(const SensorAdapterHandle&) = delete;

  std::string name() const { return wv_sensor_adapter_name(a_); }
  std::string describe() const { return wv_sensor_adapter_describe(a_); }

  // frames: {camera name: uint8 C-contiguous array or None}; returns (tensor [V,3,H,W] int8, mask [V,H,W] uint8).
  py::tuple convert(const py::dict& frames) {
    const py::ssize_t V = virt_rig_.camera_count, H = virt_cams_[0].height, W = virt_cams_[0].width;
    py::array_t<int8_t> tensor({V, py::ssize_t(3), H, W});
    py::array_t<uint8_t> mask({V, H, W});
    std::vector<wv_sp_frame> list;
    std::vector<py::buffer_info> keep;
    std::vector<std::string> names;
    names.reserve(frames.size());
    keep.reserve(frames.size());
    for (auto item : frames) {
      names.push_back(py::cast<std::string>(item.first));
      wv_sp_frame f{};
      if (!item.second.is_none()) {
        keep.push_back(py::cast<py::buffer>(item.second).request());
        f.data = keep.back().ptr;
        f.bytes = size_t(keep.back().size) * size_t(keep.back().itemsize);
      }
      list.push_back(f);
    }
    for (size_t i = 0; i < list.size(); ++i) list[i].camera = names[i].c_str();
    wv_sp_output out{tensor.mutable_data(), size_t(tensor.nbytes()), mask.mutable_data(), size_t(mask.nbytes())};
    wv_status st;
    {
      py::gil_scoped_release release;
      st = wv_sensor_adapter_convert(a_, list.data(), int32_t(list.size()), &out);
    }
    check(st);
    return py::make_tuple(tensor, mask);
  }

 private:
  static void fill_rig(const py::list& cams, std::vector<std::string>* strings, std::vector<wv_sp_camera>* out,
                       wv_sp_rig* rig) {
    strings->reserve(cams.size() * 2);
    for (auto item : cams) {
      py::dict d = py::cast<py::dict>(item);
      wv_sp_camera c{};
      strings->push_back(py::cast<std::string>(d["name"]));
      strings->push_back(py::cast<std::string>(d["pixel_format"]));
      c.width = py::cast<int32_t>(d["width"]);
      c.height = py::cast<int32_t>(d["height"]);
      c.color_matrix = py::cast<int32_t>(d["color_matrix"]);
      c.full_range = py::cast<int32_t>(d["full_range"]);
      c.fps = py::cast<double>(d["fps"]);
      c.model = py::cast<int32_t>(d["model"]);
      c.fx = py::cast<double>(d["fx"]);
      c.fy = py::cast<double>(d["fy"]);
      c.cx = py::cast<double>(d["cx"]);
      c.cy = py::cast<double>(d["cy"]);
      const auto coeffs = py::cast<std::vector<double>>(d["coeffs"]);
      for (size_t i = 0; i < 5 && i < coeffs.size(); ++i) c.coeffs[i] = coeffs[i];
      c.fov_deg = py::cast<double>(d["fov_deg"]);
      const auto t = py::cast<std::vector<double>>(d["translation_m"]);
      const auto r = py::cast<std::vector<double>>(d["rotation_rpy_rad"]);
      for (size_t i = 0; i < 3; ++i) {
        c.translation_m[i] = t.at(i);
        c.rotation_rpy_rad[i] = r.at(i);
      }
      out->push_back(c);
    }
    for (size_t i = 0; i < out->size(); ++i) {  // strings are final now: point into them
      (*out)[i].name = (*strings)[2 * i].c_str();
      (*out)[i].pixel_format = (*strings)[2 * i + 1].c_str();
    }
    rig->name = "";
    rig->camera_count = int32_t(out->size());
    rig->cameras = out->data();
  }

  std::vector<std::string> src_strings_, virt_strings_;
  std::vector<wv_sp_camera> src_cams_, virt_cams_;
  wv_sp_rig src_rig_{}, virt_rig_{};
  wv_sp_canonical canonical_{};
  wv_sensor_adapter* a_ = nullptr;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "wayvert native runtime (thin bindings over the C API)";
  m.def("version", &wv_version);
  m.def("cpu_isa", &wv_cpu_isa);
  m.def("cuda_device_count", &wv_cuda_device_count);
  m.def("cuda_built", [] { return wv_cuda_built() != 0; });
  m.def("engine_format_version", [] {
    uint32_t major = 0, minor = 0;
    wv_engine_format_version(&major, &minor);
    return py::make_tuple(major, minor);
  });
  py::class_<EngineHandle>(m, "EngineHandle")
      .def("meta_json", &EngineHandle::meta)
      .def("specs", &EngineHandle::specs, py::arg("inputs"))
      .def("arena_bytes", &EngineHandle::arena_bytes)
      .def("packed_weight_bytes", &EngineHandle::packed_weight_bytes)
      .def("op_names", &EngineHandle::op_names)
      .def("cuda_gaps", &EngineHandle::cuda_gaps);
  py::class_<SessionHandle>(m, "SessionHandle")
      .def(py::init<const EngineHandle&, int32_t, int32_t>(), py::keep_alive<1, 2>())
      .def("threads", &SessionHandle::threads)
      .def("set_profiling", &SessionHandle::set_profiling)
      .def("op_times", &SessionHandle::op_times)
      .def("set_input", &SessionHandle::set_input)
      .def("run", &SessionHandle::run)
      .def("output", &SessionHandle::output)
      .def("reset", &SessionHandle::reset);
  m.def("vehicle_defaults", [] {
    wv_vehicle_profile v;
    wv_vehicle_profile_default(&v);
    return floats_of(v);
  });
  m.def("limits_defaults", [] {
    wv_verifier_limits l;
    wv_verifier_limits_default(&l);
    return floats_of(l);
  });
  m.def("check_names", [] {
    std::vector<std::string> names;
    for (int32_t i = 0; i < WV_CHECK_COUNT; ++i) names.emplace_back(wv_verifier_check_name(i));
    return names;
  });
  py::class_<VerifierHandle>(m, "VerifierHandle")
      .def(py::init<const std::vector<float>&, const std::vector<float>&, int32_t, int32_t, int32_t, int32_t>())
      .def("check", &VerifierHandle::run)
      .def("fallback", &VerifierHandle::fallback);
  m.def("advance_trajectory", [](const F32Array& traj, float elapsed_s, float dx, float dy, float dyaw,
                                 float min_horizon_s) -> py::object {
    const int32_t points = int32_t(traj.size() / 5);  // the Python layer passes [T, 5]
    py::array_t<float> out({py::ssize_t(points + 1), py::ssize_t(5)});
    int32_t n = 0;
    check(wv_advance_trajectory(traj.data(), points, elapsed_s, dx, dy, dyaw, min_horizon_s, out.mutable_data(), &n));
    if (n == 0) return py::none();
    return out[py::slice(0, n, 1)];
  });
  py::class_<SensorAdapterHandle>(m, "SensorAdapterHandle")
      .def(py::init<const std::string&, const py::list&, const py::list&, const std::vector<float>&,
                    const std::vector<float>&, float, int32_t>())
      .def("name", &SensorAdapterHandle::name)
      .def("describe", &SensorAdapterHandle::describe)
      .def("convert", &SensorAdapterHandle::convert);
  m.def("load_engine", [](const std::string& path) {
    wv_engine* e = nullptr;
    wv_status st;
    {
      py::gil_scoped_release release;
      st = wv_engine_load(path.c_str(), &e);
    }
    check(st);
    return std::make_unique<EngineHandle>(e);
  });
  m.def("load_engine_bytes", [](const py::bytes& data) {
    std::string_view view = data;
    wv_engine* e = nullptr;
    check(wv_engine_load_from_memory(view.data(), view.size(), &e));
    return std::make_unique<EngineHandle>(e);
  });
}
