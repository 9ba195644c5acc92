// Checkpoints in a run folder, rewritten (atomically) after every epoch:
//   model.safetensors      every parameter and state tensor by its stable name
//                          ("layers.0.W", "layers.1.running_mean"), with metadata: Lamina's
//                          version, the seed, the epoch, and the plugin manifest;
//   optimizer.safetensors  the optimizer's state ("layers.0.W.v", "step");
//   trainer.json           the epoch and the random streams' states.
// With model.yaml (the resolved model) they rebuild the model exactly.
#pragma once

#include <filesystem>

#include "lamina/model.hpp"
#include "lamina/registry.hpp"
#include "lamina/trainer.hpp"

namespace lamina::detail {

void save_checkpoint(const std::filesystem::path& dir, Model& model, const Trainer& trainer);
// Loads model.safetensors into a built model: every tensor must be there, with its shape.
void load_weights(const std::filesystem::path& dir, Model& model);
// Refuses a checkpoint whose plugins are missing or of another major.minor version; returns
// warnings for other version differences.
std::vector<std::string> check_manifest(const std::filesystem::path& dir, const Registry& registry);
// Optimizer state and trainer state, for --resume.
void load_training_state(const std::filesystem::path& dir, Model& model, Trainer& trainer);

}  // namespace lamina::detail
