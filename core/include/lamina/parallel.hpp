// Splitting a layer's work over OpenMP threads as Lamina's own layers do: contiguous ranges,
// one per thread, so that a fixed thread count always makes the same split (and the same
// numbers), and nothing is allocated. Header-only.
//
//   const int threads = lamina::threads_for(n / 16);               // 1 inside a parallel region
//   lamina::for_ranges(n, threads, 16, [&](int t, std::int64_t begin, std::int64_t end) { ... });
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace lamina {

// The threads worth using for work that splits into at most `most` useful parts: every thread
// OpenMP has, no more than `most`, at least 1 — and 1 when already inside a parallel region (a
// search runs trials in parallel; their layers then run on the trial's thread).
inline int threads_for(std::int64_t most) {
  if (omp_in_parallel()) return 1;
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(omp_get_max_threads(), most)));
}

// Calls f(thread, begin, end) on one contiguous range of [0, n) per thread, each range starting
// at a multiple of `align` (the last one ends at n); empty ranges are skipped. With one thread,
// f(0, 0, n) on this thread. Returns the number of threads that ran.
template <class F>
int for_ranges(std::int64_t n, int threads, std::int64_t align, F&& f) {
  if (threads <= 1) {
    f(0, std::int64_t{0}, n);
    return 1;
  }
  int ran = 1;
#pragma omp parallel num_threads(threads)
  {
    const std::int64_t t = omp_get_thread_num(), count = omp_get_num_threads();
#pragma omp single nowait
    ran = static_cast<int>(count);
    const std::int64_t begin = n * t / count / align * align;
    const std::int64_t end = t + 1 == count ? n : n * (t + 1) / count / align * align;
    if (end > begin) f(static_cast<int>(t), begin, end);
  }
  return ran;
}

}  // namespace lamina
