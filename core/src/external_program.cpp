#include "external_program.hpp"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lamina/error.hpp"

namespace lamina::detail {

std::string tail_lines(const std::string& text, std::size_t count) {
  std::size_t at = text.size();
  while (at > 0 && text[at - 1] == '\n') --at;
  std::size_t start = at;
  for (std::size_t n = 0; start > 0 && n < count;) {
    if (text[--start] == '\n') ++n;
  }
  return text.substr(start == 0 ? 0 : start + 1, at - (start == 0 ? 0 : start + 1));
}

// The input goes through a socket (send with MSG_NOSIGNAL: a program that exits early gives
// EPIPE, never a SIGPIPE that would kill lamina without a word); its output and errors go into
// an anonymous memory file read once it has exited (no pipe to fill and stall).
std::pair<int, std::string> run_program(const char* program, const std::vector<std::string>& args,
                                        const std::string& input, const std::string& missing) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw Error(fmt::format("cannot start {}: {}", program, std::strerror(errno)));
  const int log = ::memfd_create("program-output", MFD_CLOEXEC);
  if (log < 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    throw Error(fmt::format("cannot start {}: {}", program, std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log, STDERR_FILENO);
  std::vector<std::string> words{program};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, program, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(sv[1]);
  if (spawned != 0) {
    ::close(sv[0]);
    ::close(log);
    if (spawned == ENOENT) throw InputError(missing);
    throw Error(fmt::format("cannot start {}: {}", program, std::strerror(spawned)));
  }
  for (std::size_t done = 0; done < input.size();) {
    const ssize_t w = ::send(sv[0], input.data() + done, input.size() - done, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) break;  // the program stopped reading (it failed or exited): its status says why
    done += static_cast<std::size_t>(w);
  }
  ::close(sv[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string printed;
  char buf[4096];
  ::lseek(log, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(log, buf, sizeof buf)) > 0;) printed.append(buf, static_cast<std::size_t>(n));
  ::close(log);
  return {status, printed};
}

}  // namespace lamina::detail
