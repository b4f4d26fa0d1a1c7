// count_params (config/param_count.h) against the models themselves: the
// count from the spec must equal nn::make_model(spec)->num_params() for every
// model name, so servers can size their buffers without building a network.
#include "config/param_count.h"

#include "signvote/model.h"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <utility>

using signvote::count_params;
namespace nn = signvote::nn;

namespace {

nn::ModelSpec spec_of(const std::string& name, int width, int classes, int in_channels = 3, int image = 32) {
  nn::ModelSpec s;
  s.name = signvote::enum_from_name<signvote::ModelName>(name).value();  // the config key's table
  s.width = width;
  s.num_classes = classes;
  s.in_channels = in_channels;
  s.image_size = image;
  return s;
}

}  // namespace

TEST_CASE("count_params equals the built model's num_params for every model", "[param_count]") {
  for (const char* name : {"resnet18", "small_cnn", "mlp"})
    for (int width : {1, 4, 7, 16})
      for (int classes : {2, 10, 100}) {
        const nn::ModelSpec s = spec_of(name, width, classes);
        INFO(name << " width " << width << " classes " << classes);
        CHECK(count_params(s) == nn::make_model(s)->num_params());
      }
}

TEST_CASE("count_params follows in_channels and image_size", "[param_count]") {
  for (const char* name : {"resnet18", "small_cnn", "mlp"})
    for (const auto& [cin, image] : {std::pair{1, 28}, {3, 17}, {4, 8}}) {
      const nn::ModelSpec s = spec_of(name, 8, 10, cin, image);
      INFO(name << " in_channels " << cin << " image_size " << image);
      CHECK(count_params(s) == nn::make_model(s)->num_params());
    }
}

TEST_CASE("count_params: ResNet-18 at width 64 has 11,173,962 parameters", "[param_count]") {
  CHECK(count_params(spec_of("resnet18", 64, 10)) == 11173962u);
  CHECK(signvote::resnet18_params(64) == 11173962u);
}

TEST_CASE("count_params refuses unknown names and sizes below 1", "[param_count]") {
  CHECK_THROWS_AS(count_params(spec_of("quadratic", 8, 10)), std::invalid_argument);
  CHECK_THROWS_AS(count_params(spec_of("mlp", 0, 10)), std::invalid_argument);
}
