// Reading a machine description from a TOML file (docs/machine-config.md,
// examples/machine.toml) into a MachineSpec. Checking the whole is
// validate_machine()'s job (monitor/machine_config.h).
#pragma once

#include <string>

#include "monitor/machine_config.h"

namespace disco {

// Reads a TOML machine description. Relative image paths are taken from
// the file's folder. Errors name the file, and the line where known:
// "machine.toml:12: vm[1].mem: expected a size such as \"512M\"".
bool load_machine_toml(const std::string& path, MachineSpec& out, std::string& error);

}  // namespace disco
