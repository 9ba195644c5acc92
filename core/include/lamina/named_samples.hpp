// NamedSamples: names a data source can give to what it reads, found by the host with
// dynamic_cast as OnnxExportable is (DataSource is unchanged; a source that does not derive from
// it gives class numbers and row numbers alone):
//
//   class ImageFolder final : public lamina::DataSource, public lamina::NamedSamples { ... };
//
// The class names (a folder's sub-folder names) go into the run's run.json, so `lamina predict`
// prints them beside the class numbers; the input names (the files read_inputs read) become the
// predictions' `file` column.
#pragma once

#include <string>
#include <vector>

#include "lamina/export.hpp"

namespace lamina {

class LAMINA_API NamedSamples {
 public:
  virtual ~NamedSamples() = default;
  // After load(): the name of each class index, in index order; empty if it has none.
  virtual std::vector<std::string> class_names() const = 0;
  // After read_inputs(): the name of each sample it returned, in order; empty if it has none.
  virtual std::vector<std::string> input_names() const = 0;
};

}  // namespace lamina
