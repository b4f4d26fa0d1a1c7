// ParamGroups (worker/param_groups.h): the PyTorch workers' tensors and
// groups -> the VOTE tail, the tensors kept aside, and the ranges applied.
#include "worker/param_groups.h"

#include "config/run_plan.h"
#include "signvote/config.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

using namespace signvote;

namespace {

Config external(const std::string& extra = "") {
  return parse_config("model: {name: external, dim: 100, tensors: [10, 20, 30, 40]}\n"
                      "optimizer: {name: signum, lr: 0.5, groups: [2, 2], group_lr: [0.5, 0.25], "
                      "group_weight_decay: [0.0, 0.125]" + extra + "}\n", "t.yaml");
}

float as_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

}  // namespace

TEST_CASE("param groups: presence, the tail, the kept tensors, the applied ranges", "[worker][groups]") {
  const Config cfg = external();
  worker::ParamGroups pg(cfg);
  REQUIRE(pg.active());
  CHECK(pg.tensors() == 4);
  CHECK(pg.groups() == 2);
  const std::vector<uint8_t> present = {1, 0, 0, 1};
  const std::vector<float> lr = {0.5f, 0.0625f}, wd = {0.f, 0.125f};
  pg.set_step(present, lr, wd);
  const auto tail = pg.tail_words();
  CHECK(tail.size() == 16);
  CHECK(tail[0] == 0b1001u);
  CHECK(as_float(tail[1]) == 0.5f);
  CHECK(as_float(tail[3]) == 0.0625f);
  CHECK(as_float(tail[4]) == 0.125f);
  REQUIRE(pg.absent().size() == 1);  // tensors 1 and 2, merged
  CHECK(pg.absent()[0].offset == 10);
  CHECK(pg.absent()[0].length == 50);
  // voted: tensors 0, 2, 3 (1: nobody); 2 and 3 share group 1: one range
  const uint32_t voted = 0b1101;
  const auto r = pg.apply_ranges(&voted, 1, 0.0);
  REQUIRE(r.size() == 2);
  CHECK((r[0].offset == 0 && r[0].length == 10 && r[0].lr == 0.5f && r[0].wd == 0.f));
  CHECK((r[1].offset == 30 && r[1].length == 70 && r[1].lr == 0.0625f && r[1].wd == 0.125f));
  const uint32_t none = 0;
  CHECK(pg.apply_ranges(&none, 1, 0.0).empty());
}

TEST_CASE("param groups: the server's schedule scales each group's lr", "[worker][groups]") {
  const Config cfg = external(", schedule: cosine");
  worker::ParamGroups pg(cfg);
  pg.set_default_step();
  const uint32_t all = 0b1111;
  const auto r = pg.apply_ranges(&all, 5, 0.5);
  REQUIRE(r.size() == 2);
  CHECK(r[0].lr == static_cast<float>(lr_at(cfg.optimizer, 0.5, 5, 0.5)));
  CHECK(r[1].lr == static_cast<float>(lr_at(cfg.optimizer, 0.25, 5, 0.5)));
  CHECK(r[1].lr == Approx(0.125f));
}

TEST_CASE("param groups: bad step inputs name the group; none without model.tensors", "[worker][groups]") {
  worker::ParamGroups pg(external());
  const std::vector<uint8_t> present(4, 1);
  const std::vector<float> bad_lr = {0.5f, -1.f}, wd = {0.f, 0.f};
  CHECK_THROWS_WITH(pg.set_step(present, bad_lr, wd), Catch::Contains("parameter group 1: lr -1"));
  CHECK_THROWS_WITH(pg.set_step(std::vector<uint8_t>(3, 1), wd, wd), Catch::Contains("3 presence flags"));
  CHECK_FALSE(worker::ParamGroups(parse_config("model: {name: quadratic}\n", "t.yaml")).active());
  CHECK_THROWS_WITH(parse_config("model: {name: external, dim: 100, tensors: [10, 20]}\n", "t.yaml"),
                    Catch::Contains("model.tensors' sums to 30 coordinates, but model.dim = 100"));
  CHECK_THROWS_WITH(parse_config("model: {name: external, dim: 30, tensors: [10, 20]}\n"
                                 "optimizer: {groups: [1, 2], group_lr: [1, 1], group_weight_decay: [0, 0]}\n", "t.yaml"),
                    Catch::Contains("optimizer.groups' holds 3 tensors, but model.tensors lists 2"));
}
