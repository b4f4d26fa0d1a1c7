// One object per aggregation.method: everything the rest of signvote needs
// to know about a method, in one place (docs/extending.md adds one).
//
//   name()              the aggregation.method value, e.g. "multi_krum"
//   round_kind()        vote | dense | allreduce: the worker's round strategy
//                       (worker/rounds.h) and the server's path
//   round_format(a)     payload words of VOTE (up) and RESULT (down) per shard
//   unshardable_reason  null when cluster.servers > 1 can split it, else why not
//   takes_sign_optimizer  signsgd | signum | lion (true) or sgd | adam (false)
//   check(cfg, fail)    the method's own cross-key checks (after the generic ones)
//   make_server_side    dense methods: payload -> fp32 row decoder + robust rule
//   make_encoder        the worker's fp32 shard -> VOTE payload encoder
//
// The registry (methods/registry.h) lists the shipped methods; parse_config
// resolves aggregation.method to one of them once (Config's
// aggregation.resolved), and nothing after parsing compares method names.
#pragma once

#include "comm/wire.h"
#include "signvote/aggregator.h"
#include "signvote/config.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace signvote {

// The round a method runs (config/run_plan.h, worker/rounds.h):
//   vote       packed signs up, packed majority down (the server tallies)
//   dense      fp32 or coded gradient up, fp32 aggregate down
//   allreduce  fp32 all-reduce among the workers; header-only REPORTs
enum class RoundKind { vote, dense, allreduce };

namespace methods {

// Throws ConfigError "<origin>: <message>" (config.cpp's check_cross_fields).
using ConfigFail = std::function<void(const std::string&)>;

// Worker side: shard s's coordinates g -> VOTE payload of round_format's
// up_words(g.size()) words. Returns the count of non-finite values in g
// (non-zero is an error the server reports).
class PayloadEncoder {
 public:
  virtual ~PayloadEncoder() = default;
  virtual size_t encode(size_t s, std::span<const float> g, uint64_t step, uint32_t* payload) = 0;
  // Error-feedback state (d,) kept across steps, for checkpoints; empty if none.
  virtual std::span<float> residual() { return {}; }
};

// Server side: one worker's VOTE payload (bytes) -> its fp32 row (d,).
class PayloadDecoder {
 public:
  virtual ~PayloadDecoder() = default;
  virtual void decode(const std::byte* payload, std::span<float> row) const = 0;
};

// A dense method's combine step for one shard (server/aggregation.cpp runs
// it): decode each row (null decoder: the payload is fp32 as it is), then
// the rule aggregates the W rows into the fp32 RESULT.
struct ServerSide {
  std::unique_ptr<PayloadDecoder> decoder;
  std::unique_ptr<DenseAggregator> rule;
};

class Method {
 public:
  virtual ~Method() = default;
  virtual const char* name() const = 0;
  virtual RoundKind round_kind() const = 0;
  // Default by kind: vote -> sign bits both ways, otherwise fp32 both ways.
  virtual comm::RoundFormat round_format(const AggregationConfig& a) const;
  virtual const char* unshardable_reason() const { return nullptr; }
  bool shardable() const { return unshardable_reason() == nullptr; }
  virtual bool takes_sign_optimizer() const { return round_kind() == RoundKind::vote; }
  virtual void check(const Config& cfg, const ConfigFail& fail) const {}
  // Dense methods only (the vote is the server's tally; allreduce has no
  // server aggregation): throws std::logic_error for the others.
  virtual ServerSide make_server_side(const Config& cfg, int workers, size_t shard_length) const;
  // Default: fp32 as it is (what every non-coded method sends).
  virtual std::unique_ptr<PayloadEncoder> make_encoder(const Config& cfg, const std::vector<size_t>& shard_lengths,
                                                       uint64_t worker_seed) const;
};

// The fp32-up, fp32-down method shape (mean, multi_krum, coordinate_median):
// subclasses give the name and the robust rule.
class DenseMethod : public Method {
 public:
  RoundKind round_kind() const override { return RoundKind::dense; }
  ServerSide make_server_side(const Config& cfg, int workers, size_t shard_length) const override;
  virtual std::unique_ptr<DenseAggregator> make_rule(const Config& cfg, int workers) const = 0;
};

}  // namespace methods
}  // namespace signvote
