// The programs Lamina draws with (gnuplot for `lamina plot`, Graphviz's dot for `lamina graph`):
// started without a shell, fed on stdin, their words collected for messages.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lamina::detail {

// Runs `program args...` (found on PATH) with `input` on its stdin; returns its wait status and
// what it printed (stdout and stderr together). A program that is not installed is an
// InputError saying `missing` (how to install it).
std::pair<int, std::string> run_program(const char* program, const std::vector<std::string>& args,
                                        const std::string& input, const std::string& missing);

// The last `count` lines of a program's output, for a message.
std::string tail_lines(const std::string& text, std::size_t count);

}  // namespace lamina::detail
