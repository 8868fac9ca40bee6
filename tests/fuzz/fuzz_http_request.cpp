// libFuzzer target: any bytes on an HTTP connection, parsed with the limits
// and routed as otpd's server does, must end in exactly one answer with a
// status from 200 to 599 (or in no request yet), never a crash, a leak or
// an unbounded allocation. The site behind the routes answers at once.
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/request_parse.hpp"
#include "http/routes.hpp"

namespace {

using namespace otpd::http;

class AnsweringSite final : public otpd::http::Site {
 public:
  std::string metrics() override { return "otpd_tree_ready 1\n"; }
  void liveness(std::function<void(bool, std::string)> done) override { done(true, {}); }
  bool readiness(std::string& why) override {
    why = "the tree is starting";
    return false;
  }
  std::string tree_json() override { return "{\"path\":\"/\"}"; }
  std::optional<std::string> logs_json(const std::string& path, int) override {
    if (path.size() > 100) return std::nullopt;
    return "{\"lines\":[]}";
  }
  void act(Action, const std::string& path,
           std::function<void(std::optional<ActionFailure>, std::string)> done) override {
    if (path == "a") return done(std::nullopt, "{}");
    if (path == "b") {
      return done(ActionFailure{.kind = ActionFailure::Kind::refused,
                                .text = "supervisor / is not running"},
                  "{}");
    }
    if (path == "c") {
      return done(ActionFailure{.kind = ActionFailure::Kind::ambiguous,
                                .text = "'c' is the name of 2 children (x/c, y/c): write the "
                                        "path of one"},
                  "{}");
    }
    done(ActionFailure{.kind = ActionFailure::Kind::no_such_child,
                       .text = "no child '" + path + "' in the tree"},
         "{}");
  }
  bool admin_configured() const override { return true; }
  bool admin_token_is(std::string_view token) const override { return token == "0123456789abcdef"; }
};

void check(const HttpResponse& response) {
  if (response.status < 200 || response.status > 599) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static AnsweringSite site;
  const RoutePolicy policy{.allowed_hosts = {"otpd.test"}, .check_host = true};
  const char* bytes = reinterpret_cast<const char*>(data);
  // Requests one after another, as a keep-alive connection carries them.
  while (size > 0) {
    RequestParser parser;
    limit(parser);
    HeaderBudget budget;
    boost::beast::error_code error;
    std::size_t used = 0;
    // Fed in growing pieces, as reads deliver them into a buffer that keeps
    // what the parser did not take.
    std::size_t piece = 1;
    while (!parser.is_done() && used < size && !error) {
      const std::size_t offered = std::min(size - used, piece);
      budget.before_read(parser);
      const std::size_t took = parser.put(boost::asio::buffer(bytes + used, offered), error);
      if (error == boost::beast::http::error::need_more) {
        error = {};
        if (offered == size - used && took == 0) break;  // needs bytes we do not have
      }
      budget.after_read(parser, took);
      used += took;
      piece = took == 0 ? piece * 2 : 1 + (used % 97);
    }
    if (error) {
      if (auto refusal = refusal_for(error)) check(*refusal);
      return 0;
    }
    if (!parser.is_done()) return 0;
    std::optional<HttpResponse> refusal;
    const HttpRequest request = request_of(parser, refusal);
    if (refusal) {
      check(*refusal);
      return 0;
    }
    int answers = 0;
    route(request, site, policy, [&](HttpResponse response) {
      check(response);
      ++answers;
    });
    if (answers != 1) std::abort();
    bytes += used;
    size -= used;
    if (used == 0) return 0;
  }
  return 0;
}
