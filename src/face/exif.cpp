#include "face/exif.hpp"

#include <libexif/exif-data.h>

#include <cctype>
#include <memory>

namespace face {

std::string LowerCamel(std::string_view n) {
  std::string out(n);
  std::size_t upper = 0;
  while (upper < out.size() && std::isupper(static_cast<unsigned char>(out[upper]))) ++upper;
  // A run of capitals followed by lower case: the last capital starts the next word.
  std::size_t lower_to = (upper > 1 && upper < out.size()) ? upper - 1 : upper;
  for (std::size_t i = 0; i < lower_to; ++i) out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  return out;
}

std::vector<std::pair<std::string, std::string>> ReadExifTags(std::string_view bytes) {
  std::vector<std::pair<std::string, std::string>> out;
  if (bytes.size() < 4 || static_cast<unsigned char>(bytes[0]) != 0xFF || static_cast<unsigned char>(bytes[1]) != 0xD8)
    return out;
  std::unique_ptr<ExifData, void (*)(ExifData*)> data(
      exif_data_new_from_data(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned>(bytes.size())),
      exif_data_unref);
  if (!data) return out;
  for (ExifIfd ifd : {EXIF_IFD_0, EXIF_IFD_EXIF, EXIF_IFD_GPS}) {
    ExifContent* content = data->ifd[ifd];
    if (!content) continue;
    for (unsigned i = 0; i < content->count; ++i) {
      ExifEntry* e = content->entries[i];
      if (!e || e->format == EXIF_FORMAT_UNDEFINED) continue;  // binary blobs
      const char* name = exif_tag_get_name_in_ifd(e->tag, ifd);
      if (!name) continue;
      char buf[1024];
      const char* v = exif_entry_get_value(e, buf, sizeof buf);
      if (!v) continue;
      std::string value(v);
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
      out.emplace_back(LowerCamel(name), std::move(value));
    }
  }
  return out;
}

}  // namespace face
