# -*- Python -*-
# lit configuration of metac's regression tests.
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "metac"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".meta", ".test", ".c"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.metac_obj_root, "test")

config.substitutions.append(("%runtime_dir", config.runtime_dir))
config.substitutions.append(("%cc", config.cc))
config.substitutions.append(("%python", "/usr/bin/python3"))

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
tools = ["meta-opt", "meta-fdcheck", "metac", "metac-data"]
llvm_config.add_tool_substitutions(tools, [config.metac_tools_dir])
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
# `%metac` (used by the frontend tests) must be expanded before the plain
# tool name `metac` is.
# Longest first: `%metac` must not eat the start of `%metac_src`.
config.substitutions[0:0] = [
    ("%metac_src", config.metac_src_root),
    ("%metac_tools", config.metac_tools_dir),
    ("%metac", os.path.join(config.metac_tools_dir, "metac")),
]

# Programs compiled for other CPUs (metac --cpu) run under QEMU's user-mode
# emulation of those CPUs (scripts/test installs qemu-user).
if shutil.which("qemu-x86_64"):
    config.available_features.add("qemu-x86_64")
