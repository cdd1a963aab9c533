#include "face/image_decode.hpp"

#include <gif_lib.h>
#include <libexif/exif-data.h>
#include <setjmp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
#include <jerror.h>

namespace face {
namespace {

core::Error DecodeError(std::string why) { return core::Error(core::Errc::ImageDecode, {}, std::move(why)); }

uint32_t Be32(const unsigned char* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint16_t Be16(const unsigned char* p) { return uint16_t((p[0] << 8) | p[1]); }
uint32_t Le32(const unsigned char* p) { return (uint32_t(p[3]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | p[0]; }
uint16_t Le16(const unsigned char* p) { return uint16_t((p[1] << 8) | p[0]); }

// ---- JPEG via libjpeg-turbo: errors longjmp out, premature EOF is an error -----------------
struct JpegErr {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated = false;
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}
void JpegEmit(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<JpegErr*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
}

class JpegDecoder {
 public:
  JpegDecoder(std::string_view bytes) {
    cinfo_.err = jpeg_std_error(&err_.mgr);
    err_.mgr.error_exit = JpegErrorExit;
    err_.mgr.emit_message = JpegEmit;
    err_.message[0] = 0;
    jpeg_create_decompress(&cinfo_);
    jpeg_mem_src(&cinfo_, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  }
  ~JpegDecoder() { jpeg_destroy_decompress(&cinfo_); }

  // Header only.
  core::Result<HeaderInfo> Header() {
    if (setjmp(err_.jump)) return DecodeError(std::string("jpeg header: ") + err_.message);
    jpeg_read_header(&cinfo_, TRUE);
    return HeaderInfo{ImageFormat::Jpeg, int(cinfo_.image_width), int(cinfo_.image_height)};
  }

  // Full decode at 1/denom, with the APP1 EXIF orientation. The pixel buffers are members:
  // a longjmp out of libjpeg skips the destructors of locals created after setjmp.
  core::Result<cv::Mat> Decode(int denom, int* orientation) {
    cv::Mat& out = out_;
    cv::Mat& raw = raw_;
    if (setjmp(err_.jump)) return DecodeError(std::string("jpeg: ") + err_.message);
    jpeg_save_markers(&cinfo_, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&cinfo_, TRUE);
    *orientation = ExifOrientation();
    cinfo_.scale_num = 1;
    cinfo_.scale_denom = static_cast<unsigned>(denom);
    cinfo_.dct_method = JDCT_ISLOW;
    const bool cmyk = cinfo_.jpeg_color_space == JCS_CMYK || cinfo_.jpeg_color_space == JCS_YCCK;
    cinfo_.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_BGR;
    jpeg_start_decompress(&cinfo_);
    const int w = int(cinfo_.output_width), h = int(cinfo_.output_height);
    raw.create(h, w, cmyk ? CV_8UC4 : CV_8UC3);
    while (cinfo_.output_scanline < cinfo_.output_height) {
      JSAMPROW row = raw.ptr<uchar>(int(cinfo_.output_scanline));
      jpeg_read_scanlines(&cinfo_, &row, 1);
      if (err_.truncated) return DecodeError("jpeg: premature end of data (truncated file)");
    }
    jpeg_finish_decompress(&cinfo_);
    if (err_.truncated) return DecodeError("jpeg: premature end of data (truncated file)");
    if (!cmyk) return raw;
    // Adobe CMYK JPEGs store inverted values: R = C*K/255 with C, K as stored.
    out.create(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y) {
      const uchar* s = raw.ptr<uchar>(y);
      uchar* d = out.ptr<uchar>(y);
      for (int x = 0; x < w; ++x, s += 4, d += 3) {
        const int k = s[3];
        d[0] = uchar(s[2] * k / 255);
        d[1] = uchar(s[1] * k / 255);
        d[2] = uchar(s[0] * k / 255);
      }
    }
    return out;
  }

 private:
  int ExifOrientation() {
    for (jpeg_saved_marker_ptr m = cinfo_.marker_list; m; m = m->next) {
      if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 || std::memcmp(m->data, "Exif\0\0", 6) != 0) continue;
      ExifData* ed = exif_data_new_from_data(m->data, m->data_length);
      if (!ed) continue;
      int orientation = 1;
      if (ExifEntry* e = exif_data_get_entry(ed, EXIF_TAG_ORIENTATION)) {
        if (e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data)
          orientation = exif_get_short(e->data, exif_data_get_byte_order(ed));
      }
      exif_data_unref(ed);
      return (orientation >= 1 && orientation <= 8) ? orientation : 1;
    }
    return 1;
  }
  jpeg_decompress_struct cinfo_{};
  JpegErr err_;
  cv::Mat raw_, out_;
};

// ---- GIF via giflib: the first frame only ---------------------------------------------
struct GifSource {
  const unsigned char* data;
  size_t size, pos = 0;
};
int GifRead(GifFileType* gif, GifByteType* buf, int len) {
  auto* src = static_cast<GifSource*>(gif->UserData);
  const size_t n = std::min(size_t(len), src->size - src->pos);
  std::memcpy(buf, src->data + src->pos, n);
  src->pos += n;
  return int(n);
}

core::Result<cv::Mat> DecodeGif(std::string_view bytes) {
  GifSource src{reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()};
  int err = 0;
  GifFileType* gif = DGifOpen(&src, GifRead, &err);
  if (!gif) return DecodeError(std::string("gif: ") + GifErrorString(err));
  struct Closer {
    GifFileType* g;
    ~Closer() {
      int e;
      DGifCloseFile(g, &e);
    }
  } closer{gif};
  const int sw = gif->SWidth, sh = gif->SHeight;
  if (sw <= 0 || sh <= 0) return DecodeError("gif: bad screen size");
  int transparent = -1;
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) return DecodeError("gif: truncated or corrupt");
    if (type == TERMINATE_RECORD_TYPE) return DecodeError("gif: no image");
    if (type == EXTENSION_RECORD_TYPE) {
      int code;
      GifByteType* ext;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) return DecodeError("gif: bad extension");
      if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1)) transparent = ext[4];
      while (ext) {
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) return DecodeError("gif: bad extension");
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif) == GIF_ERROR) return DecodeError("gif: bad image descriptor");
    const GifImageDesc& d = gif->Image;
    const ColorMapObject* cmap = d.ColorMap ? d.ColorMap : gif->SColorMap;
    if (!cmap || d.Width <= 0 || d.Height <= 0 || d.Left < 0 || d.Top < 0 || d.Left + d.Width > sw ||
        d.Top + d.Height > sh)
      return DecodeError("gif: bad frame geometry or no colour map");
    cv::Mat out(sh, sw, CV_8UC3, cv::Scalar(255, 255, 255));
    if (gif->SColorMap && gif->SBackGroundColor < gif->SColorMap->ColorCount) {
      const GifColorType c = gif->SColorMap->Colors[gif->SBackGroundColor];
      out.setTo(cv::Scalar(c.Blue, c.Green, c.Red));
    }
    std::vector<GifPixelType> line(size_t(d.Width));
    std::vector<int> rows;
    if (d.Interlace) {
      for (int start : {0, 4, 2, 1})
        for (int y = start; y < d.Height; y += (start == 0 ? 8 : start == 4 ? 8 : start == 2 ? 4 : 2)) rows.push_back(y);
    } else {
      for (int y = 0; y < d.Height; ++y) rows.push_back(y);
    }
    for (int y : rows) {
      if (DGifGetLine(gif, line.data(), d.Width) == GIF_ERROR) return DecodeError("gif: truncated image data");
      uchar* p = out.ptr<uchar>(d.Top + y) + 3 * d.Left;
      for (int x = 0; x < d.Width; ++x, p += 3) {
        const int idx = line[size_t(x)];
        if (idx == transparent || idx >= cmap->ColorCount) continue;
        const GifColorType c = cmap->Colors[idx];
        p[0] = c.Blue;
        p[1] = c.Green;
        p[2] = c.Red;
      }
    }
    return out;
  }
}

// ---- TIFF header: IFD0 ImageWidth/ImageLength ----------------------------------------------
core::Result<HeaderInfo> TiffHeader(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 8) return DecodeError("tiff: short header");
  const bool le = p[0] == 'I';
  auto u16 = [&](size_t o) { return le ? Le16(p + o) : Be16(p + o); };
  auto u32 = [&](size_t o) { return le ? Le32(p + o) : Be32(p + o); };
  const size_t ifd = u32(4);
  if (ifd + 2 > n) return DecodeError("tiff: IFD out of range");
  const int count = u16(ifd);
  int w = 0, h = 0;
  for (int i = 0; i < count; ++i) {
    const size_t e = ifd + 2 + size_t(i) * 12;
    if (e + 12 > n) return DecodeError("tiff: truncated IFD");
    const int tag = u16(e), type = u16(e + 2);
    const uint32_t v = type == 3 ? u16(e + 8) : u32(e + 8);
    if (tag == 256) w = int(std::min<uint32_t>(v, 1u << 30));
    if (tag == 257) h = int(std::min<uint32_t>(v, 1u << 30));
  }
  if (w <= 0 || h <= 0) return DecodeError("tiff: no dimensions");
  return HeaderInfo{ImageFormat::Tiff, w, h};
}

// ---- PNM header: P1..P6, width, height (comments allowed) ---------------------------------
core::Result<HeaderInfo> PnmHeader(std::string_view b) {
  size_t i = 2;
  long vals[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    for (;;) {
      while (i < b.size() && std::isspace(static_cast<unsigned char>(b[i]))) ++i;
      if (i < b.size() && b[i] == '#') {
        while (i < b.size() && b[i] != '\n') ++i;
        continue;
      }
      break;
    }
    if (i >= b.size() || !std::isdigit(static_cast<unsigned char>(b[i]))) return DecodeError("pnm: bad header");
    long v = 0;
    while (i < b.size() && std::isdigit(static_cast<unsigned char>(b[i]))) {
      v = v * 10 + (b[i] - '0');
      if (v > (1L << 30)) return DecodeError("pnm: dimension overflow");
      ++i;
    }
    vals[k] = v;
  }
  if (vals[0] <= 0 || vals[1] <= 0) return DecodeError("pnm: bad dimensions");
  return HeaderInfo{ImageFormat::Ppm, int(vals[0]), int(vals[1])};
}

}  // namespace

std::optional<ImageFormat> SniffFormat(std::string_view b) {
  auto starts = [&](const char* magic, size_t n) { return b.size() >= n && std::memcmp(b.data(), magic, n) == 0; };
  if (starts("\xFF\xD8\xFF", 3)) return ImageFormat::Jpeg;
  if (starts("\x89PNG\r\n\x1A\n", 8)) return ImageFormat::Png;
  if (starts("BM", 2)) return ImageFormat::Bmp;
  if (starts("II*\0", 4) || starts("MM\0*", 4)) return ImageFormat::Tiff;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageFormat::Gif;
  if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' && std::isspace(static_cast<unsigned char>(b[2])))
    return ImageFormat::Ppm;
  return std::nullopt;
}

core::Result<HeaderInfo> ReadHeader(std::string_view b, ImageFormat format) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  switch (format) {
    case ImageFormat::Jpeg: {
      JpegDecoder dec(b);
      return dec.Header();
    }
    case ImageFormat::Png:
      if (b.size() < 24 || std::memcmp(p + 12, "IHDR", 4) != 0) return DecodeError("png: no IHDR");
      return HeaderInfo{format, int(std::min<uint32_t>(Be32(p + 16), 1u << 30)),
                        int(std::min<uint32_t>(Be32(p + 20), 1u << 30))};
    case ImageFormat::Gif:
      if (b.size() < 10) return DecodeError("gif: short header");
      return HeaderInfo{format, Le16(p + 6), Le16(p + 8)};
    case ImageFormat::Bmp: {
      if (b.size() < 26) return DecodeError("bmp: short header");
      const uint32_t dib = Le32(p + 14);
      if (dib == 12) return HeaderInfo{format, Le16(p + 18), Le16(p + 20)};
      const int32_t w = int32_t(Le32(p + 18)), h = int32_t(Le32(p + 22));
      if (w <= 0 || h == 0 || h == INT32_MIN) return DecodeError("bmp: bad dimensions");
      return HeaderInfo{format, int(std::min(w, 1 << 30)), int(std::min(std::abs(h), 1 << 30))};
    }
    case ImageFormat::Tiff:
      return TiffHeader(b);
    case ImageFormat::Ppm:
      return PnmHeader(b);
  }
  return DecodeError("unknown format");
}

cv::Mat ApplyOrientation(const cv::Mat& img, int o) {
  cv::Mat out;
  switch (o) {
    case 2: cv::flip(img, out, 1); return out;
    case 3: cv::rotate(img, out, cv::ROTATE_180); return out;
    case 4: cv::flip(img, out, 0); return out;
    case 5: cv::transpose(img, out); return out;
    case 6: cv::rotate(img, out, cv::ROTATE_90_CLOCKWISE); return out;
    case 7: cv::transpose(img, out); cv::flip(out, out, -1); return out;
    case 8: cv::rotate(img, out, cv::ROTATE_90_COUNTERCLOCKWISE); return out;
    default: return img;
  }
}

core::Result<DecodedPixels> DecodeImageBytes(std::string_view bytes, std::optional<ImageFormat> declared,
                                             const DecodeLimits& limits) {
  const auto sniffed = SniffFormat(bytes);
  if (!sniffed) return DecodeError("unknown magic bytes");
  if (declared && *declared != *sniffed)
    return core::Error(core::Errc::ContentTypeMismatch, {},
                       std::string("declared ") + std::string(ImageFormatName(*declared)) + ", bytes are " +
                           std::string(ImageFormatName(*sniffed)));
  auto header = ReadHeader(bytes, *sniffed);
  if (!header) return std::move(header).error();
  const int w = header->width, h = header->height;
  auto dims = [&](int lw, int lh) {
    return std::vector<std::string>{std::to_string(w), std::to_string(h), std::to_string(lw), std::to_string(lh)};
  };
  if (w < limits.min_side || h < limits.min_side)
    return core::Error(core::Errc::ImageTooSmall, dims(limits.min_side, limits.min_side));
  if (w > limits.max_side || h > limits.max_side)
    return core::Error(core::Errc::ImageTooLarge, dims(limits.max_side, limits.max_side));

  DecodedPixels out;
  try {
    if (*sniffed == ImageFormat::Jpeg) {
      int denom = 1;
      if (!limits.full_resolution)
        while (denom < 8 && std::max(w, h) / (denom * 2) >= limits.target_side) denom *= 2;
      JpegDecoder dec(bytes);
      auto m = dec.Decode(denom, &out.orientation);
      if (!m) return std::move(m).error();
      out.bgr = std::move(*m);
      out.denom = denom;
    } else if (*sniffed == ImageFormat::Gif) {
      auto m = DecodeGif(bytes);
      if (!m) return std::move(m).error();
      out.bgr = std::move(*m);
    } else {
      cv::Mat buf(1, int(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
      out.bgr = cv::imdecode(buf, cv::IMREAD_COLOR);
      if (out.bgr.empty()) return DecodeError(std::string(ImageFormatName(*sniffed)) + ": cannot decode");
    }
  } catch (const std::exception& e) {
    return DecodeError(std::string("decode: ") + e.what());
  }
  if (out.bgr.empty() || out.bgr.type() != CV_8UC3) return DecodeError("decoded to an unexpected pixel type");
  if (out.bgr.cols * out.denom < w - 8 || out.bgr.rows * out.denom < h - 8)
    return DecodeError("decoded size does not match the header");
  out.bgr = ApplyOrientation(out.bgr, out.orientation);
  const bool swap = out.orientation >= 5;
  out.source_width = swap ? h : w;
  out.source_height = swap ? w : h;
  if (!out.bgr.isContinuous()) out.bgr = out.bgr.clone();
  return out;
}

}  // namespace face
