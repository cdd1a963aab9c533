#pragma once
// Portrait files of descriptors: the JPEG portrait and its thumbnails (suffix "" and "_32",
// "_64", "_96", "_160"), all in one bundle file per descriptor, <root>/<first two hex of
// id>/<id>.jpgs (a small header of offsets, then the JPEGs; see portraits.cpp). One file per
// descriptor, not per image, because every file costs its own fsync on the write path. Files
// of the older one-file-per-image layout (<id><suffix>.jpg) are still read, and converted by
// the next Put of that id. Shared by every node of a deployment (a local or network directory).
//
// Crash safety (API.md §6, issue 4): Put writes the bundle to a temporary name, fsyncs it,
// then renames it into place and fsyncs the directory; the caller commits the descriptor
// row only after Put succeeded. A crash between the two leaves files without a row: they are
// orphans, removed by RemoveOrphans at start-up. A row never exists without its files.
//
// Ids must be lowercase hex and '-' (a uuid4), suffixes one of the five above: anything else
// is refused (Errc::Internal; Get answers nullopt), so no id can name a path outside the tree.
// Temporary files are "<final name>.<random hex>.tmp" beside the final file.
// Several nodes on one directory: another node's Put in flight has files (temporary, or
// renamed into place before its row commits) that look like orphans. RemoveOrphans therefore
// takes a minimum age: only files last modified at least min_age_ms ago are removed, and a
// descriptor's files only when all of them are that old. A single node (SQLite) passes 0:
// nothing is in flight while it starts.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace store {

class PortraitStore {
 public:
  explicit PortraitStore(std::string root);
  // Creates the root directory if needed.
  core::Status Open();
  // files: (suffix, jpeg bytes); replaces existing files of the same name. On failure nothing
  // this call wrote is left behind.
  core::Status Put(std::string_view descriptor_id, const std::vector<std::pair<std::string, std::string>>& files);
  // nullopt when the file does not exist.
  core::Result<std::optional<std::string>> Get(std::string_view descriptor_id, std::string_view suffix) const;
  // Removes every file of the descriptor (missing files are fine).
  core::Status Remove(std::string_view descriptor_id);
  // Removes temporary files and the files of descriptors for which exists(id) is false,
  // leaving files younger than min_age_ms alone (see above). Returns how many descriptors'
  // files were removed.
  core::Result<int> RemoveOrphans(const std::function<core::Result<bool>(std::string_view id)>& exists,
                                  int64_t min_age_ms = 0);
  const std::string& root() const { return root_; }

 private:
  std::string Path(std::string_view id, std::string_view suffix) const;  // older layout
  std::string BundlePath(std::string_view id) const;
  std::string root_;
};

}  // namespace store
