// The plug-in worker: a separate process (`gradproof worker PLUGIN.so`) that loads the plug-in
// and serves protocol requests on its stdin/stdout. Plug-in code runs only here, so a crash,
// abort, exit() or hang cannot touch the parent's state; the parent restarts the worker.
#pragma once

#include <string>

namespace gradproof::plugin {

// Serves requests until end of input; returns the process exit code.
int run_worker(const std::string& plugin_path);

}  // namespace gradproof::plugin
