// docs/openapi.yaml must describe exactly the routing table of the real api::Api: every
// registered (method, path) is documented, nothing else is, and every documented operation
// lists its responses. The YAML is read line by line (no YAML library in the build), which
// relies on the document's regular block layout:
//
//   paths:
//     /4/account/tokens/{token_id}:     <- path keys at exactly 2 spaces, starting with '/'
//       parameters: ...
//       get:                            <- operation keys at exactly 4 spaces
//         responses:                    <- the operation's fields at exactly 6 spaces
//
// Anything in `paths:` that breaks that layout is reported as a parse error rather than
// silently skipped, so the comparison cannot pass by missing an operation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api/api.hpp"
#include "api/auth.hpp"
#include "api/errors.hpp"
#include "store/sqlite_store.hpp"

namespace {

struct DocOp {
  std::string method;  // upper case, as the router writes it
  std::string path;    // as written in the YAML
  int line = 0;
  bool has_responses = false;
};

struct ParsedDoc {
  bool saw_paths = false;
  std::vector<DocOp> ops;
  std::vector<std::string> errors;
};

const std::set<std::string>& Methods() {
  static const std::set<std::string> m = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
  return m;
}

const std::set<std::string>& PathItemFields() {
  static const std::set<std::string> f = {"summary", "description", "servers", "parameters"};
  return f;
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

// The key of a "key: value" / "key:" line (without quotes), or "" when the line is no
// mapping entry. `rest` receives what follows the colon, trimmed, comments removed.
std::string KeyOf(const std::string& content, std::string* rest) {
  std::string key;
  std::size_t i = 0;
  if (!content.empty() && (content[0] == '\'' || content[0] == '"')) {
    char q = content[0];
    auto end = content.find(q, 1);
    if (end == std::string::npos) return "";
    key = content.substr(1, end - 1);
    i = end + 1;
    if (i >= content.size() || content[i] != ':') return "";
  } else {
    // A plain key ends at the first ": " or at a trailing ':'.
    std::size_t c = 0;
    for (;; ++c) {
      c = content.find(':', c);
      if (c == std::string::npos) return "";
      if (c + 1 == content.size() || content[c + 1] == ' ') break;
    }
    key = Trim(content.substr(0, c));
    i = c;
  }
  std::string r = content.substr(i + 1);
  if (auto hash = r.find(" #"); hash != std::string::npos) r = r.substr(0, hash);
  if (!r.empty() && r[0] == '#') r.clear();
  if (rest) *rest = Trim(r);
  return key;
}

// '|', '>', '|-', '>+', '|2' … : the value is a block scalar whose lines follow.
bool StartsBlockScalar(const std::string& value) {
  if (value.empty() || (value[0] != '|' && value[0] != '>')) return false;
  for (std::size_t i = 1; i < value.size(); ++i)
    if (value[i] != '-' && value[i] != '+' && !std::isdigit(static_cast<unsigned char>(value[i]))) return false;
  return true;
}

ParsedDoc ParseOpenApiPaths(const std::string& text) {
  ParsedDoc doc;
  std::istringstream in(text);
  std::string raw;
  int lineno = 0;
  bool in_paths = false;
  std::string cur_path;
  DocOp* cur_op = nullptr;
  int scalar_indent = -1;  // >= 0 while inside a block scalar owned by a key at that indent
  auto error = [&](const std::string& what) {
    doc.errors.push_back("line " + std::to_string(lineno) + ": " + what + ": '" + raw + "'");
  };
  while (std::getline(in, raw)) {
    ++lineno;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    std::size_t indent = 0;
    while (indent < raw.size() && raw[indent] == ' ') ++indent;
    std::string content = raw.substr(indent);
    if (Trim(content).empty()) continue;
    if (scalar_indent >= 0) {
      if (static_cast<int>(indent) > scalar_indent) continue;
      scalar_indent = -1;
    }
    if (content[0] == '\t') {
      if (in_paths) error("tab in indentation");
      continue;
    }
    if (content[0] == '#') continue;
    std::string value;
    std::string key = KeyOf(content, &value);
    if (!key.empty() && StartsBlockScalar(value)) scalar_indent = static_cast<int>(indent);

    if (indent == 0) {
      in_paths = key == "paths";
      cur_path.clear();
      cur_op = nullptr;
      if (in_paths) {
        doc.saw_paths = true;
        if (!value.empty() && value != "{}") error("paths must be a block mapping");
      }
      continue;
    }
    if (!in_paths) continue;

    if (indent < 6 && indent % 2 != 0) {
      error("odd indentation inside paths");
      continue;
    }
    if (indent == 2) {
      cur_op = nullptr;
      cur_path.clear();
      if (key.rfind("x-", 0) == 0) continue;  // specification extension
      if (key.empty() || key[0] != '/') {
        error("a key at 2 spaces under paths must be a path starting with '/'");
        continue;
      }
      if (!value.empty()) error("a path item must be a block mapping");
      cur_path = key;
      continue;
    }
    if (indent == 4) {
      cur_op = nullptr;
      if (cur_path.empty()) continue;  // inside an x- extension
      if (content[0] == '-') continue;  // item of a path-level 'parameters:' list at the same indent
      if (Methods().count(key)) {
        doc.ops.push_back(DocOp{Upper(key), cur_path, lineno, false});
        cur_op = &doc.ops.back();
        if (!value.empty() && value != "{}") error("an operation must be a block mapping");
      } else if (key == "$ref") {
        error("path items given by $ref are not supported by this check");
      } else if (!PathItemFields().count(key) && key.rfind("x-", 0) != 0) {
        error("unknown path item field '" + key + "'");
      }
      continue;
    }
    if (indent == 6 && cur_op && key == "responses") cur_op->has_responses = true;
  }
  return doc;
}

// "/4/account/tokens/{token_id}" and "/4/account/tokens/{id}" both become "/4/account/tokens/{}".
std::string NormalizePath(const std::string& p) {
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '{') {
      auto close = p.find('}', i);
      if (close != std::string::npos) {
        out += "{}";
        i = close;
        continue;
      }
    }
    out.push_back(p[i]);
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

using OpKey = std::pair<std::string, std::string>;  // (METHOD, normalised path)

std::string Show(const OpKey& k) { return k.first + " " + k.second; }

class OpenApiRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    yaml_ = ReadFile(FACEPORT_OPENAPI_PATH);
    ASSERT_FALSE(yaml_.empty()) << "cannot read " << FACEPORT_OPENAPI_PATH;
    doc_ = ParseOpenApiPaths(yaml_);

    auto st = store::OpenSqliteStore({":memory:"});
    ASSERT_TRUE(st) << "cannot open an in-memory store";
    store_ = std::move(*st);
    auth_ = std::make_unique<api::Authenticator>(*store_, api::AuthOptions{});
    api::ServiceInfo info;
    info.version = "0.0.0";
    api_ = std::make_unique<api::Api>(*store_, *auth_, api::ApiOptions{}, std::move(info));
  }

  std::map<OpKey, std::string> RouteTable() const {  // key -> pattern as registered
    std::map<OpKey, std::string> out;
    for (const auto& r : api_->router().routes()) out[{r.method, NormalizePath(r.pattern)}] = r.pattern;
    return out;
  }
  std::map<OpKey, const DocOp*> Documented() const {
    std::map<OpKey, const DocOp*> out;
    for (const auto& op : doc_.ops) out[{op.method, NormalizePath(op.path)}] = &op;
    return out;
  }

  std::string yaml_;
  ParsedDoc doc_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<api::Authenticator> auth_;
  std::unique_ptr<api::Api> api_;
};

TEST_F(OpenApiRoutes, DocumentParses) {
  EXPECT_TRUE(doc_.saw_paths) << "no top-level 'paths:' in " << FACEPORT_OPENAPI_PATH;
  for (const auto& e : doc_.errors) ADD_FAILURE() << e;
  EXPECT_FALSE(doc_.ops.empty()) << "no operations found under paths:";
  EXPECT_FALSE(api_->router().routes().empty());
}

TEST_F(OpenApiRoutes, EveryRouteIsDocumented) {
  auto documented = Documented();
  for (const auto& [key, pattern] : RouteTable()) {
    EXPECT_TRUE(documented.count(key)) << "route " << key.first << " " << pattern
                                       << " is registered but not documented in docs/openapi.yaml";
  }
}

TEST_F(OpenApiRoutes, EveryDocumentedOperationIsARoute) {
  auto routes = RouteTable();
  for (const auto& op : doc_.ops) {
    OpKey key{op.method, NormalizePath(op.path)};
    EXPECT_TRUE(routes.count(key)) << "docs/openapi.yaml line " << op.line << " documents " << op.method << " "
                                   << op.path << ", which the routing table does not have"
                                   << (op.method == "OPTIONS" ? " (OPTIONS is answered for every path and is "
                                                                "described in info.description, not as an operation)"
                                                              : "");
  }
}

TEST_F(OpenApiRoutes, NoOperationIsListedTwice) {
  std::map<OpKey, int> seen;
  for (const auto& op : doc_.ops) {
    OpKey key{op.method, NormalizePath(op.path)};
    if (auto it = seen.find(key); it != seen.end())
      ADD_FAILURE() << Show(key) << " is documented twice (lines " << it->second << " and " << op.line << ")";
    else
      seen[key] = op.line;
  }
  std::set<OpKey> routes;
  for (const auto& r : api_->router().routes())
    EXPECT_TRUE(routes.insert({r.method, NormalizePath(r.pattern)}).second)
        << r.method << " " << r.pattern << " is registered twice";
}

TEST_F(OpenApiRoutes, EveryOperationListsResponses) {
  for (const auto& op : doc_.ops)
    EXPECT_TRUE(op.has_responses) << "docs/openapi.yaml line " << op.line << ": " << op.method << " " << op.path
                                  << " has no 'responses:' (at 6 spaces)";
}

// Every error_code the document quotes is one the service can produce.
TEST_F(OpenApiRoutes, QuotedErrorCodesExist) {
  std::set<int> known;
  for (const auto& row : api::ErrorTable()) known.insert(row.error_code);
  std::istringstream in(yaml_);
  std::string line;
  int lineno = 0, quoted = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string value;
    if (KeyOf(Trim(line), &value) != "error_code" || value.empty() ||
        !std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); }))
      continue;
    ++quoted;
    EXPECT_TRUE(known.count(std::stoi(value))) << "docs/openapi.yaml line " << lineno << ": error_code " << value
                                               << " is not in api::ErrorTable()";
  }
  EXPECT_GT(quoted, 0) << "the document quotes no error_code example";
}

// The line parser itself, on a document that uses the allowed variations.
TEST(OpenApiParser, ReadsTheBlockLayout) {
  const std::string yaml =
      "openapi: 3.0.3\r\n"
      "info:\n"
      "  title: t\n"
      "  description: |\n"
      "    paths:\n"
      "      /not/a/path:\n"
      "        get:\n"
      "paths:\n"
      "  # a comment\n"
      "  /a:\n"
      "    description: |\n"
      "      get:\n"
      "       odd: 1\n"
      "    get:\n"
      "      summary: x\n"
      "      description: >-\n"
      "        responses: in a scalar does not count\n"
      "      responses:\n"
      "        '200':\n"
      "          description: ok\n"
      "  '/b/{b_id}':\n"
      "    parameters:\n"
      "    - $ref: '#/components/parameters/B'\n"
      "    post:\n"
      "      requestBody: {}\n"
      "    delete: # trailing comment\n"
      "      responses:\n"
      "        '204':\n"
      "          description: gone\n"
      "  x-internal: true\n"
      "components:\n"
      "  schemas: {}\n"
      "  /c:\n"
      "    get:\n";
  ParsedDoc doc = ParseOpenApiPaths(yaml);
  EXPECT_TRUE(doc.saw_paths);
  for (const auto& e : doc.errors) ADD_FAILURE() << e;
  ASSERT_EQ(doc.ops.size(), 3u);
  EXPECT_EQ(doc.ops[0].method, "GET");
  EXPECT_EQ(doc.ops[0].path, "/a");
  EXPECT_TRUE(doc.ops[0].has_responses);
  EXPECT_EQ(doc.ops[1].method, "POST");
  EXPECT_EQ(doc.ops[1].path, "/b/{b_id}");
  EXPECT_FALSE(doc.ops[1].has_responses);
  EXPECT_EQ(doc.ops[2].method, "DELETE");
  EXPECT_TRUE(doc.ops[2].has_responses);
  EXPECT_EQ(NormalizePath("/b/{b_id}"), NormalizePath("/b/{id}"));
  EXPECT_NE(NormalizePath("/b/{id}"), NormalizePath("/b/x"));
}

TEST(OpenApiParser, ReportsIrregularLayout) {
  EXPECT_FALSE(ParseOpenApiPaths("paths:\n  version:\n    get:\n").errors.empty());     // no leading '/'
  EXPECT_FALSE(ParseOpenApiPaths("paths:\n   /a:\n    get:\n").errors.empty());        // 3 spaces
  EXPECT_FALSE(ParseOpenApiPaths("paths:\n  /a:\n    gett:\n").errors.empty());        // unknown field
  EXPECT_FALSE(ParseOpenApiPaths("paths:\n  /a:\n    $ref: x.yaml\n").errors.empty());  // not followed
  EXPECT_FALSE(ParseOpenApiPaths("paths: {/a: {get: {}}}\n").errors.empty());           // flow style
}

}  // namespace
