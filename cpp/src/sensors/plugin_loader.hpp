// Loads an out-of-tree sensor plugin (dlopen), checks its ABI version and its function table.
#pragma once
#include <memory>
#include <string>

#include "core/status.hpp"
#include "wayvert/sensor_plugin.h"

namespace wv::sensors {

// A loaded plugin library; the library stays mapped while any adapter it opened lives.
class LoadedPlugin {
 public:
  static Result<std::shared_ptr<LoadedPlugin>> load(const std::string& path);
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;
  const wv_sensor_plugin* table() const { return table_; }

 private:
  LoadedPlugin() = default;
  void* library_ = nullptr;
  const wv_sensor_plugin* table_ = nullptr;
};

// Refuse tables of another ABI major or with missing functions; `who` names the plugin in messages.
Status check_plugin_table(const wv_sensor_plugin* table, const std::string& who);

}  // namespace wv::sensors
