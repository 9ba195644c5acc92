// Finding the images of a folder: one sub-folder per class (sorted by name, byte order), the
// files under each (sub-folders included, sorted), hidden entries (".DS_Store") skipped.
// Refused, naming the entry: a class folder with no images, a name that is not UTF-8, a
// symbolic link that loops or leads nowhere, an entry that is neither a file nor a folder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lamina_image_folder {

struct ImageFile {
  std::filesystem::path path;
  std::string name;      // relative to the folder scanned, for messages and predict's file column
  std::int32_t label = 0;
};

struct ScannedFolder {
  std::vector<std::string> classes;  // sub-folder names, sorted
  std::vector<ImageFile> files;      // class by class, each class's files sorted
};

// `key` names the data key in messages (data.train). With `classes` given (the training
// folder's), the folder's sub-folders must be among them and keep their labels.
ScannedFolder scan_classes(const std::filesystem::path& root, const std::string& key,
                           const std::vector<std::string>* classes = nullptr);

// predict's inputs: an image file, or every file under a folder (sorted, recursively).
std::vector<ImageFile> scan_inputs(const std::filesystem::path& input);

}  // namespace lamina_image_folder
