#pragma once
// The matching steps shared by family M (matching.cpp) and the verify/identify handlers
// (handler_pipelines.cpp): top-k over the in-memory index for a set of reference vectors, and
// rendering candidates as API.md §5 objects. Callers bring the index up to date
// (IndexFollower::CatchUp) and check that their candidate set exists before calling.
#include <boost/json/array.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "api/index_follower.hpp"
#include "core/result.hpp"
#include "match/index.hpp"
#include "store/store.hpp"

namespace api::matching_detail {

struct Context {
  store::Store& store;
  IndexFollower& follower;
  const std::string& account_id;
};

struct ResolvedCandidates {
  match::Target target;
  bool persons = false;  // one result per person (person candidates) vs per descriptor
};

// Top `limit` over every reference vector (a candidate's score is its best over them), highest
// first, ties in first-seen order. A list the index has never seen gives no candidates.
core::Result<std::vector<match::Candidate>> TopK(Context& ctx, const match::Index& index,
                                                 const std::vector<std::vector<float>>& refs,
                                                 const ResolvedCandidates& cands, std::size_t limit);

// The list must be the account's and hold persons (22003 ListNotFoundRef / 22010 wrong type).
// Reads only the list's type: GetList would also count its members (a scan of them).
core::Status RequirePersonsList(store::Store& store, const std::string& account_id, const std::string& list_id);

// The API's similarity (0..1, rounded to 6 digits) of a cosine.
double Similarity(float cosine);

// Person candidates {"person_id","descriptor_id","similarity","user_data","external_id"} (a
// person deleted since the match is skipped) or descriptor candidates {"id","similarity"}.
core::Result<boost::json::array> RenderCandidates(Context& ctx, const std::vector<match::Candidate>& found,
                                                  bool persons);

}  // namespace api::matching_detail
