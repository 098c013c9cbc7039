#include "sensors/plugin_loader.hpp"

#include <dlfcn.h>

#include <cstring>

namespace wv::sensors {

Status check_plugin_table(const wv_sensor_plugin* t, const std::string& who) {
  if (t == nullptr) return Status(Code::unsupported, who + ": the entry point returned no plugin table");
  if (t->abi_major != WV_SENSOR_PLUGIN_ABI_MAJOR)
    return Status(Code::unsupported, who + ": built for sensor-plugin ABI " + std::to_string(t->abi_major) + "." +
                                         std::to_string(t->abi_minor) + ", this runtime speaks " +
                                         std::to_string(WV_SENSOR_PLUGIN_ABI_MAJOR) + ".x");
  if (!t->open || !t->convert || !t->close || !t->last_error || !t->describe)
    return Status(Code::unsupported, who + ": the plugin table lacks open, convert, close, last_error or describe");
  return Status::Ok();
}

Result<std::shared_ptr<LoadedPlugin>> LoadedPlugin::load(const std::string& path) {
  const std::string who = "sensor plugin '" + path + "'";
  void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* e = ::dlerror();
    return Status(Code::io, who + ": cannot load: " + (e ? e : "unknown dlopen error"));
  }
  std::shared_ptr<LoadedPlugin> p(new LoadedPlugin());
  p->library_ = lib;
  ::dlerror();
  void* sym = ::dlsym(lib, WV_SENSOR_PLUGIN_ENTRY);
  if (sym == nullptr)
    return Status(Code::unsupported, who + ": no exported symbol '" WV_SENSOR_PLUGIN_ENTRY "' (is it a wayvert sensor plugin?)");
  wv_sensor_plugin_entry_fn entry;
  static_assert(sizeof entry == sizeof sym, "function and data pointers differ in size");
  std::memcpy(&entry, &sym, sizeof entry);
  p->table_ = entry();
  Status st = check_plugin_table(p->table_, who);
  if (!st.ok()) return st;
  return p;
}

LoadedPlugin::~LoadedPlugin() {
  if (library_) ::dlclose(library_);
}

}  // namespace wv::sensors
