#pragma once
// Training reads its samples in shuffled order: one row here, the next tens of MB away. On 4 KB
// pages nearly every row is a TLB miss and a page walk before its first byte arrives (perf: the
// batch gather stalled on its prefetches). Backing the sample storage with 2 MB pages lets the
// TLB cover the whole data set: the gather of a W2 batch fell from ~5.5% to ~3.8% of a run.
#include <sys/mman.h>

#include <cstdint>
#include <vector>

// glibc 2.36's headers predate it; the number is the kernel's ABI (asm-generic/mman-common.h).
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace lamina {

// Asks the kernel to back v's storage (the 2 MB-aligned part of it) with huge pages, in place:
// no copy, so no second copy of the data set at the peak of memory use. MADV_COLLAPSE (Linux
// 6.1) does it now; MADV_HUGEPAGE lets khugepaged do it later where collapse is refused. Both are
// advice: on a kernel without them v stays on ordinary pages and only the gather is slower.
template <class T>
void advise_huge_pages(std::vector<T>& v) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const auto at = reinterpret_cast<std::uintptr_t>(v.data());
  const std::uintptr_t begin = (at + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = (at + v.size() * sizeof(T)) & ~(kHuge - 1);
  if (end <= begin) return;
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_COLLAPSE);
}

}  // namespace lamina
