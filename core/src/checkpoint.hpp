// Checkpoints in a run folder, rewritten (atomically) after every epoch:
//   model.safetensors      every parameter and state tensor by its stable name
//                          ("layers.0.W", "layers.1.running_mean"), with metadata: Lamina's
//                          version, the seed, the epoch, and the plugin manifest;
//   optimizer.safetensors  the optimizer's state ("layers.0.W.v", "step");
//   trainer.json           the epoch and the random streams' states.
// With model.yaml (the resolved model) they rebuild the model exactly. The three change together
// (see checkpoint.cpp): a kill at any moment leaves the previous set or the new one.
#pragma once

#include <filesystem>

#include "runtime/model.hpp"
#include "runtime/registry.hpp"
#include "runtime/trainer.hpp"

namespace lamina::detail {

void save_checkpoint(const std::filesystem::path& dir, Model& model, const Trainer& trainer);
// Finishes a checkpoint a killed run committed but did not finish moving into place, drops one it
// had not committed, and removes leftover temporaries. Readers of a run folder call it first.
void recover_checkpoint(const std::filesystem::path& dir);
// Whether the run folder holds a checkpoint (a run killed in its first epoch has none); call
// recover_checkpoint first, which finishes an interrupted commit.
bool has_checkpoint(const std::filesystem::path& dir);
// The index of a tensor's first value that is not finite, or -1: a NaN or inf weight evaluates
// to a loss of NaN and exports an ONNX file full of it, so loaded weights are checked.
std::int64_t first_non_finite(const Tensor& t);
// Loads model.safetensors (model-best.safetensors with `best`) into a built model: every tensor
// must be there, with its shape.
void load_weights(const std::filesystem::path& dir, Model& model, bool best = false);
// model-best.safetensors: the weights of the epoch a keep_best callback marked, written
// atomically beside the checkpoint set (not part of it: a resume redoes that epoch anyway).
inline constexpr const char* kBestWeights = "model-best.safetensors";
void save_best(const std::filesystem::path& dir, Model& model, std::int64_t epoch);
// Refuses a checkpoint whose plugins are missing or of another major.minor version; returns
// warnings for other version differences.
std::vector<std::string> check_manifest(const std::filesystem::path& dir, const Registry& registry);
// Optimizer state and trainer state, for --resume.
void load_training_state(const std::filesystem::path& dir, Model& model, Trainer& trainer);

}  // namespace lamina::detail
