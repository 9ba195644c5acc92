// A deadline for a request's headers, which httplib 0.11 lacks: its read timeout bounds the wait
// for each piece, so a client that sends a header line every second holds a worker for as long
// as it likes, and as many such clients as there are workers stall the dashboard for everyone.
//
// A watchdog thread looks at this process's connections to the server's port every 200 ms (in
// /proc/self/fd, since httplib hands its sockets to no callback) and shuts down any that has
// spent longer than the deadline without a request being handled: since it was accepted, or
// since its last answer. A request being handled (from the pre-routing handler to the logger)
// is never cut, however long it takes.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace lamina::serve {

class HeaderDeadline {
 public:
  HeaderDeadline(int port, std::chrono::milliseconds deadline);
  ~HeaderDeadline();  // stops the watchdog
  HeaderDeadline(const HeaderDeadline&) = delete;
  HeaderDeadline& operator=(const HeaderDeadline&) = delete;

  // From httplib's handlers; the peer is "address:port" as the Request gives them.
  void request_started(const std::string& peer);
  void request_answered(const std::string& peer);
  static std::string peer(const std::string& address, int port);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lamina::serve
