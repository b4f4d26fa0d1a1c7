// signvote wire protocol, version 1. Everything that crosses MPI is defined
// here: the message layout, the tags, the bit layout and one round.
//
// Ranks
// -----
//   ranks 0 .. S-1        servers (S = cluster.servers, usually 1); server s
//                         owns shard s, a contiguous range of packed words
//   ranks S .. S+W-1      workers (W = cluster.workers); worker k = rank S+k
//   workers 0..A-1        adversaries when adversary.count = A
//
// Bit layout (include/signvote/sign_layout.h is the one definition)
// ----------
//   coordinate i  ->  word i/32, bit i%32 (bit 0 = least significant)
//   bit 1 = +1 (x >= 0, so +0 and -0 give +1); bit 0 = -1; NaN is an error
//
//        word 0                            word 1
//   bit  31 30 ...  2  1  0                31 ...  1  0
//      [x31 x30 ... x2 x1 x0]            [x63 ... x33 x32]  ...  [pad 0 | x_{d-1} ..]
//   The last word's unused bits are 0. A vector of d signs takes
//   ceil(d/32) words, padded to a multiple of 16 words (64 bytes) on the wire.
//
// Message = one 128-byte MsgHeader followed by the payload:
//
//   byte 0           16          32          48          64             128
//        +-----------+-----------+-----------+-----------+--------------+------------------+
//        |magic ver  |rank shard |step       |offset     | metrics,     | payload: packed  |
//        |kind status|bucket     |length     |words      | hash, error  | words, 64B-padded|
//        +-----------+-----------+-----------+-----------+--------------+------------------+
//
//   magic   = kMagic ('SVOT'), version = kProtocolVersion
//   kind    = VOTE (worker->server, payload = packed signs of the shard)
//             RESULT (server->workers, payload = packed majority)
//             REPORT (worker->server, header only: allreduce mode's per-step report)
//   step    = 1-based round number; length = coordinates in the shard;
//   offset  = first coordinate of the shard; words = payload words (padded)
//   status  = OK or an ErrorCode, set by the server in RESULT headers; on an
//             error err_rank/err_expected/err_got say who sent what.
//
// One round (aggregation.method = majority_vote), as a worker sees it
// ---------
//   1. compute:  g = stochastic gradient at x                    (t_compute)
//   2. pack:     m = b m + (1-b) g; bits = sign(m) packed; an adversary
//                flips its bits                                  (t_pack)
//   3. send:     for each shard s: MPI_Isend(header VOTE + bits[shard s])
//                to server s, tag kTagVote + bucket              -+
//   4. server s: MPI_Irecv one slot per worker (64B-aligned), Waitall,  |
//                validate every header (magic, version, kind, step,     |
//                length, offset, byte count); tally the W rows into the | (t_comm)
//                packed majority (bit-sliced, ties -> +1)     (t_tally) |
//   5. reply:    server s MPI_Isend(header RESULT + majority) to every  |
//                worker, tag kTagResult                          -+
//   6. apply:    each worker checks the RESULT header (status, step,
//                length), then x -= lr (s_i + wd x_i), s_i = +-1 from the
//                bits, fused, no float temporary                 (t_apply)
//                lr = the schedule at the header's `progress`: the fraction
//                of the budget (steps or run.time_limit_s, whichever ends
//                first) server 0 measured for this step, so every worker
//                applies the same lr at the same step
//   If validation fails at step 4 the server still replies to every worker,
//   with a header-only RESULT (128 bytes, so it fits any receive) whose
//   status is the error and err_rank the offending rank: every rank stops
//   with the same one-line error instead of hanging, and exits non-zero.
//   Receives are posted with 64 bytes of slack, so an over-long message is
//   reported as size_mismatch rather than truncated silently.
//
// Leaving (PyTorch workers, `signvote serve`): a worker whose script ends
//   calls close(), which sends the next step's VOTE with status
//   worker_left (payload ignored). When every worker's VOTE of step t says
//   worker_left, the server replies worker_left with err_rank = kEveryone
//   and ends the run cleanly (no update is applied at step t); when only
//   some do, it stops the run naming the first leaver, as for an error.
//
// With a round deadline (cluster.round_deadline_ms > 0, majority_vote)
//   4'. server s polls the receives until all W votes of step t arrived or
//       the deadline passed. A missing vote abstains: the P present rows
//       are tallied with threshold ceil(P/2) (no votes at all: every bit +1).
//       A late worker's receive stays posted; when its vote of an earlier
//       step arrives it is stale: logged with how late it came, discarded,
//       the receive posted again. Never counted in a later round.
//   5'. RESULT(t) goes to every worker; the server waits only for the sends
//       to the workers that were on time. A late worker's RESULTs queue (MPI
//       keeps them in order): it applies each one it missed, so its weights
//       stay identical, and its votes count again once on time.
//       Late more than cluster.max_missed_rounds rounds in a row: the run
//       stops with status worker_late naming the rank.
//
// With buckets (aggregation.bucket_bytes > 0)
//   Each shard is cut into buckets (comm::plan_ranges: whole 512-coordinate
//   blocks, at most kMaxBuckets per shard). Steps 3-6 run per bucket: its
//   own VOTE and RESULT (header bucket = b, offset/length = the bucket's,
//   tags + b). The server serves its buckets last one first, the order in
//   which the backward pass finishes them; with aggregation.overlap a
//   worker sends each bucket as soon as its gradients are final.
//
// With several shards, a failure one shard alone sees (its RESULT carries
//   the error) is shared by the shards after the round (one-int
//   MPI_Allreduce calls among them: did any shard reject the round, then
//   did logging it fail), so every server leaves too.
//
// With aggregation.transport = alltoall (no server in the data path)
//   3'. the workers MPI_Alltoall slots of [VOTE header | packed chunk j]
//       (chunk j of split_ranges(d, W)); worker j validates its W headers
//       and tallies chunk j; MPI_Allgather of [RESULT header | majority]
//   4'. each worker sends a header-only REPORT to server 0 carrying any
//       failure (its own, or the collective's verdict naming the rank); the
//       server's header-only RESULT says go on, stop here (time limit) or
//       stop with an error, before anyone applies the round.
//
// Parameter tensors (PyTorch workers: model.tensors set, server shards only)
//   The VOTE of every part carries a tail after its packed words, and the
//   RESULT one after its majority (comm/vote_tail.h; T tensors, G groups):
//
//     VOTE  [ packed signs | presence: ceil(T/32) words | lr_0 wd_0 .. lr_G-1 wd_G-1 (float32) | pad ]
//     RESULT[ packed majority | voted: ceil(T/32) words | pad ]      each block padded to 16 words
//
//   presence bit t = this worker has a gradient for tensor t (a .grad of
//   None abstains; bits >= T are 0, else bad_presence). The server tallies
//   each coordinate over the workers present for its tensor (threshold
//   ceil(P/2), ties +1); voted bit t = at least one worker was present. A
//   worker applies only the tensors voted on, each with its group's lr and
//   wd: a tensor nobody voted on does not move, nor decay. The workers'
//   (lr, wd) blocks must be equal bit for bit (else lr_mismatch naming the
//   odd worker, err_expected/err_got = group << 32 | float bits); with an
//   optimizer.schedule other than constant the lrs must stay the config's
//   (else schedule_conflict: the script changes an lr the server schedules).
//   Packed votes stay 1 bit per coordinate; the tail adds T/8 + 8G bytes.
//
// Non-finite gradients (optimizer.nonfinite)
//   stop (default): a worker's NaN/inf count goes in its VOTE as status
//   nan_gradient and the run stops. skip: the worker sets kFlagNonFinite in
//   its VOTE instead; a server that sees it on any worker sets kFlagSkip in
//   its RESULT (status ok), and every worker drops the round: no update,
//   its momentum restored. The step still counts; the server logs a skip.
//
// Allreduce mode: workers MPI_Allreduce fp32 gradients on the workers'
// communicator, and each sends a REPORT header to server 0 every step and
// waits for its header-only RESULT, so the server validates steps, logs
// progress, checks weight hashes and stops a bad run the same way.
#pragma once

#include <cstddef>
#include <cstdint>

namespace signvote::protocol {

inline constexpr uint32_t kMagic = 0x544F5653u;  // "SVOT" little-endian
inline constexpr uint16_t kProtocolVersion = 3;  // 2: RESULT carries progress and elapsed_s; 3: tails, skips
inline constexpr size_t kHeaderBytes = 128;
inline constexpr size_t kWireAlignBytes = 64;

// MPI tags. The VOTE of bucket b of a shard uses kTagVote + b and its
// RESULT kTagResult + b (b < kMaxBuckets; aggregation.bucket_bytes).
inline constexpr int kTagVote = 100;
inline constexpr int kMaxBuckets = 64;
inline constexpr int kTagReport = 200;
inline constexpr int kTagResult = 300;

inline constexpr uint8_t kFlagStop = 1;       // RESULT: the last round (time limit)
inline constexpr uint8_t kFlagSkip = 2;       // RESULT: drop this round (a worker's gradient was not finite)
inline constexpr uint8_t kFlagNonFinite = 4;  // VOTE: this worker's gradient was not finite (nonfinite: skip)

enum class MsgKind : uint8_t { vote = 1, result = 2, report = 3 };

enum class ErrorCode : uint8_t {
  ok = 0,
  bad_magic = 1,       // not a signvote message, or a foreign protocol
  bad_version = 2,     // a different kProtocolVersion
  bad_kind = 3,
  step_mismatch = 4,   // err_expected = server's step, err_got = worker's
  length_mismatch = 5, // coordinate count or offset disagrees
  size_mismatch = 6,   // byte count on the wire disagrees with the header
  nan_gradient = 7,    // a worker's estimate contained NaN
  hash_mismatch = 8,   // replicas diverged: err_rank differs from the majority
  worker_failed = 9,   // a worker reported a local error
  worker_late = 10,    // err_rank missed err_got rounds in a row (limit err_expected)
  worker_left = 11,    // VOTE: this worker leaves the run (PyTorch workers' close()); RESULT
                       // with err_rank = kEveryone: all left at this step, a clean end
  lr_mismatch = 12,    // err_rank's (lr, wd) of a group differ from the others' (tail; expected/got: group << 32 | bits)
  schedule_conflict = 13,  // err_rank changed a group's lr while optimizer.schedule is not constant
  bad_presence = 14,   // a presence bit for a tensor that does not exist (err_got = the word)
};

// err_rank of a RESULT that concerns every worker (worker_left).
inline constexpr uint32_t kEveryone = 0xFFFFFFFFu;

const char* error_name(ErrorCode code);

// 128 bytes, trivially copyable, little-endian (all our targets are).
struct MsgHeader {
  uint32_t magic = kMagic;
  uint16_t version = kProtocolVersion;
  MsgKind kind = MsgKind::vote;
  ErrorCode status = ErrorCode::ok;
  uint32_t rank = 0;        // sender's world rank
  uint16_t shard = 0;       // server shard this message belongs to
  uint16_t bucket = 0;      // bucket within the shard (aggregation.bucket_bytes; 0 = the whole shard)
  uint64_t step = 0;        // 1-based round
  uint64_t length = 0;      // coordinates in this shard
  uint64_t offset = 0;      // first coordinate of this shard
  uint64_t words = 0;       // payload uint32 words that follow (padded)
  // Worker metrics for the server's log (seconds; loss = objective value).
  float loss = 0;
  float t_compute = 0, t_pack = 0, t_comm = 0, t_apply = 0;  // t_comm/t_apply: previous step
  uint32_t correct = 0;     // correctly classified samples this step (networks)
  uint32_t samples = 0;     // samples this step
  uint32_t err_rank = 0;    // RESULT with status != ok: the offending rank
  uint64_t weight_hash = 0; // 64-bit hash of the weights when step % hash_every == 0
  uint64_t err_expected = 0;
  uint64_t err_got = 0;
  uint8_t flags = 0;        // RESULT: kFlagStop = last round (time limit reached)
  uint8_t reserved[7] = {};
  double progress = 0;      // RESULT: fraction of the run's budget used at this step (server 0's clock), in [0, 1]
  double elapsed_s = 0;     // RESULT: server 0's elapsed training time (seconds, resumed runs included)
};
static_assert(sizeof(MsgHeader) == kHeaderBytes, "MsgHeader must stay 128 bytes");

}  // namespace signvote::protocol
