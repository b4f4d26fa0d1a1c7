#include "launch/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "util/timer.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace signvote::launch {
namespace {

using util::Clock;
using util::after_seconds;
volatile sig_atomic_t g_signal = 0;

void on_signal(int sig) { g_signal = sig; }

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(fmt::format("launch: {}: {}", what, std::strerror(errno)));
}

// An owned file descriptor.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct Child {
  pid_t pid = -1;
  Fd out, err;  // read ends of its stdout / stderr (-1: discarded)
};

// fork + exec argv in a new process group; stdout/stderr to pipes (`pipes`)
// or /dev/null. The child dies with the launcher (PDEATHSIG).
Child spawn(const std::vector<std::string>& argv, bool pipes) {
  int po[2] = {-1, -1}, pe[2] = {-1, -1};
  if (pipes && (::pipe2(po, O_CLOEXEC) != 0 || ::pipe2(pe, O_CLOEXEC) != 0)) fail("pipe2");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {  // the child: async-signal-safe calls only
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the launcher died before prctl
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(pipes ? po[1] : null, 1);
    ::dup2(pipes ? pe[1] : null, 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from here: no race with the kill below
  Child c;
  c.pid = pid;
  if (pipes) {
    ::close(po[1]), ::close(pe[1]);
    c.out.fd = po[0], c.err.fd = pe[0];
  }
  return c;
}

int decode(int wstatus) { return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus); }

// Non-blocking reap: true with *status once the child has ended.
bool reaped(pid_t pid, int* status) {
  int w = 0;
  const pid_t r = ::waitpid(pid, &w, WNOHANG);
  if (r < 0 && errno != EINTR) fail("waitpid");
  if (r != pid) return false;
  *status = decode(w);
  return true;
}

// SIGTERM to the group, SIGKILL to whatever is left after grace_s; reaps the leader.
int stop_group(pid_t pid, double grace_s) {
  ::kill(-pid, SIGTERM);
  const auto end = after_seconds(grace_s);
  int status = 0;
  while (Clock::now() < end) {
    if (reaped(pid, &status)) {
      ::kill(-pid, SIGKILL);  // stragglers of the group
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid, SIGKILL);
  int w = 0;
  while (::waitpid(pid, &w, 0) < 0)
    if (errno != EINTR) fail("waitpid");
  return decode(w);
}

// Reads what is available on fd into buf and hands complete lines to sink; false at EOF.
bool drain(int fd, std::string& buf, bool err, const LineSink& sink) {
  char chunk[4096];
  const ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return true;
    fail("read from the job");
  }
  if (n == 0) {
    if (!buf.empty()) sink(buf, err), buf.clear();
    return false;
  }
  buf.append(chunk, static_cast<size_t>(n));
  for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) sink(std::string_view(buf).substr(0, nl), err);
  return true;
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    if (::sigaction(sig, &sa, nullptr) != 0) fail("sigaction");
}

int received_signal() { return g_signal; }

JobEnd run_job(const std::vector<std::string>& argv, const LineSink& sink, const Tick& tick, double grace_s) {
  Child c = spawn(argv, true);
  std::string bufs[2];
  bool open[2] = {true, true};
  bool leader_done = false;
  Clock::time_point done_at;
  JobEnd end;
  while (true) {
    pollfd fds[2] = {{c.out.fd, POLLIN, 0}, {c.err.fd, POLLIN, 0}};
    for (int i = 0; i < 2; ++i)
      if (!open[i]) fds[i].fd = -1;
    const int r = ::poll(fds, 2, 100);
    if (r < 0 && errno != EINTR) fail("poll");
    for (int i = 0; i < 2; ++i)
      if (open[i] && fds[i].revents) open[i] = drain(fds[i].fd, bufs[i], i == 1, sink);
    if (!leader_done && reaped(c.pid, &end.status)) leader_done = true, done_at = Clock::now();
    if (leader_done && ((!open[0] && !open[1]) || Clock::now() - done_at > std::chrono::seconds(2))) {
      ::kill(-c.pid, SIGKILL);  // whatever of its group still holds the pipes
      for (int i = 0; i < 2; ++i)
        if (!bufs[i].empty()) sink(bufs[i], i == 1);
      return end;
    }
    if (std::string why = leader_done ? std::string() : tick(); !why.empty()) {
      end.stopped = why;
      end.status = stop_group(c.pid, grace_s);
      return end;
    }
  }
}

std::vector<bool> probe_all(const std::vector<std::vector<std::string>>& argvs, double timeout_s) {
  std::vector<Child> kids;
  for (const auto& argv : argvs) kids.push_back(spawn(argv, false));
  std::vector<bool> ok(argvs.size(), false), done(argvs.size(), false);
  const auto end = after_seconds(timeout_s);
  size_t left = kids.size();
  while (left > 0 && Clock::now() < end) {
    for (size_t i = 0; i < kids.size(); ++i) {
      int status = 0;
      if (!done[i] && reaped(kids[i].pid, &status)) done[i] = true, ok[i] = status == 0, --left;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (size_t i = 0; i < kids.size(); ++i)
    if (!done[i]) stop_group(kids[i].pid, 1.0);
  return ok;
}

std::string capture(const std::vector<std::string>& argv, double timeout_s) {
  std::string out;
  const auto deadline = after_seconds(timeout_s);
  const JobEnd e = run_job(
      argv, [&](std::string_view line, bool err) { if (!err) out.append(line).push_back('\n'); },
      [&] { return Clock::now() > deadline ? std::string("timed out") : std::string(); }, 1.0);
  if (!e.stopped.empty() || e.status != 0)
    throw std::runtime_error(fmt::format("launch: '{}' {}", argv.at(0),
                                         e.stopped.empty() ? fmt::format("exited {}", e.status) : "timed out"));
  return out;
}

}  // namespace signvote::launch
