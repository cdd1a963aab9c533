#pragma once
// EXIF tags of a JPEG as (name, value) text pairs, for `extract_exif=1` (API.md §5). Names
// are the EXIF tag names in lowerCamelCase ("make", "model", "artist", "dateTime",
// "orientation", "gpsLatitude", …); values are libexif's text rendering. Only the tags of
// IFD0, the EXIF IFD and the GPS IFD; binary blobs (maker notes, thumbnails) are skipped.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace face {

// Empty when the bytes carry no EXIF block (or are not a JPEG). Never fails.
std::vector<std::pair<std::string, std::string>> ReadExifTags(std::string_view jpeg_bytes);
// "GPSLatitude" -> "gpsLatitude", "DateTime" -> "dateTime".
std::string LowerCamel(std::string_view tag_name);

}  // namespace face
