// Communicator: the ranks of one job training one model together (data-parallel training under
// mpirun or srun). The core implements it over MPI; a plugin sees it only as Context::comm, which
// is null in a single process, so a layer that needs statistics of the whole global batch
// (BatchNorm with `sync: true`) adds up its partial sums across ranks without naming MPI.
//
//   if (ctx.comm) ctx.comm->allreduce_sum(sums);   // every rank now holds the global sums
//
// Every rank must make the same calls in the same order: a collective call that one rank skips
// blocks the others.
#pragma once

#include <span>

#include "lamina/export.hpp"

namespace lamina {

class LAMINA_API Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Element-wise sum over every rank, in place; every rank receives the same result.
  virtual void allreduce_sum(std::span<float> values) = 0;
  virtual void allreduce_sum(std::span<double> values) = 0;
};

}  // namespace lamina
