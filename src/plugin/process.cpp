#include "plugin/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace gradproof::plugin {

namespace {
void ignore_sigpipe() {
    static const bool once = [] {
        std::signal(SIGPIPE, SIG_IGN);  // a dead child must give EPIPE, not kill us
        return true;
    }();
    (void)once;
}
}  // namespace

implementation_process::implementation_process(std::vector<std::string> argv, std::string display_name,
                                               process_options options)
    : argv_(std::move(argv)), name_(std::move(display_name)), options_(options) {
    ignore_sigpipe();
    char tmpl[] = "/tmp/gradproof-stderr-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd >= 0) {
        ::close(fd);
        stderr_path_ = tmpl;
    }
}

implementation_process::~implementation_process() {
    stop();
    if (!stderr_path_.empty()) ::unlink(stderr_path_.c_str());
}

void implementation_process::start() {
    int in_pipe[2], out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw implementation_failure(name_ + ": cannot create a pipe");
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        ::close(in_pipe[0]);
        ::close(in_pipe[1]);
        throw implementation_failure(name_ + ": cannot create a pipe");
    }
    std::vector<char*> args;
    for (auto& a : argv_) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw implementation_failure(name_ + ": fork failed");
    if (pid == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        const int err = stderr_path_.empty() ? ::open("/dev/null", O_WRONLY)
                                             : ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (err >= 0) ::dup2(err, 2);
        ::setpgid(0, 0);  // its own process group, so a timeout kills its children too
        ::execvp(args[0], args.data());
        const char* why = std::strerror(errno);
        (void)!::write(2, "gradproof: cannot start ", 24);
        (void)!::write(2, args[0], std::strlen(args[0]));
        (void)!::write(2, ": ", 2);
        (void)!::write(2, why, std::strlen(why));
        (void)!::write(2, "\n", 1);
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    pid_ = pid;
    to_child_ = in_pipe[1];
    from_child_ = out_pipe[0];
    ++starts_;
}

void implementation_process::stop() {
    if (to_child_ >= 0) ::close(to_child_);
    if (from_child_ >= 0) ::close(from_child_);
    to_child_ = from_child_ = -1;
    if (pid_ > 0) {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
}

std::string implementation_process::stderr_tail() const {
    if (stderr_path_.empty()) return {};
    std::ifstream f(stderr_path_);
    std::stringstream s;
    s << f.rdbuf();
    std::string t = s.str();
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    const auto nl = t.find_last_of('\n');
    if (nl != std::string::npos) t = t.substr(nl + 1);
    if (t.size() > 200) t = t.substr(t.size() - 200);
    return t;
}

std::string implementation_process::exit_description() {
    if (pid_ <= 0) return "is not running";
    int status = 0;
    // Give a dying child a moment to be reaped; otherwise kill it.
    pid_t r = 0;
    for (int i = 0; i < 50 && (r = ::waitpid(pid_, &status, WNOHANG)) == 0; ++i) ::usleep(2000);
    if (r == 0) {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return "stopped answering and was killed";
    }
    pid_ = -1;
    std::string d;
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        d = "crashed with signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
    } else if (WIFEXITED(status)) {
        d = "exited with status " + std::to_string(WEXITSTATUS(status));
    } else {
        d = "ended";
    }
    const std::string tail = stderr_tail();
    if (!tail.empty()) d += "; last stderr line: " + tail;
    return d;
}

protocol::message implementation_process::call(const nlohmann::json& header, const std::string& payload,
                                               std::uint64_t max_payload) {
    const bool restarted = pid_ <= 0 && starts_ > 0;
    if (pid_ <= 0) start();
    const auto until = std::chrono::steady_clock::now() + options_.timeout;
    try {
        if (restarted && handshake_) {
            protocol::write_message(to_child_, *handshake_, {}, until);
            const auto hello = protocol::read_message(from_child_, until, 0);
            if (!hello.header.contains("status") || hello.header["status"] != "ok")
                throw protocol::protocol_error("the restarted process did not answer the handshake with status ok");
        }
        protocol::write_message(to_child_, header, payload, until);
        return protocol::read_message(from_child_, until, max_payload);
    } catch (const protocol::timeout_error&) {
        stop();
        throw implementation_failure(name_ + " gave no answer within " + std::to_string(options_.timeout.count()) +
                                     " ms and was killed", true);
    } catch (const protocol::eof_error&) {
        const std::string why = exit_description();
        stop();
        throw implementation_failure(name_ + " " + why);
    } catch (const protocol::protocol_error& e) {
        // Broken pipe, garbage or truncated answer: the child is no longer trustworthy.
        std::string why = e.what();
        const std::string exit = exit_description();
        stop();
        throw implementation_failure(name_ + ": protocol error (" + why + "); the process " + exit);
    }
}

}  // namespace gradproof::plugin
