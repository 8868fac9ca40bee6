// Turning bytes into an HttpRequest as the server does: Beast's parser with
// otpd's limits, and the answer each parse error earns. Shared by the
// server and the fuzz target, so that the fuzzer runs what otpd runs.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

#include "http/routes.hpp"

namespace otpd::http {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
inline constexpr std::size_t kMaxBodyBytes = 16 * 1024;

// A fresh parser with the header and body limits set.
void limit(RequestParser& parser);

// Beast 1.81 holds each read to header_limit, but not the header as a
// whole: fields parsed by one read are consumed, and the next read starts
// with the full limit again, so that endless fields would be taken. The
// budget keeps the total: before each read the parser's limit is lowered
// to what is left of it.
class HeaderBudget {
 public:
  void before_read(RequestParser& parser) const;
  // `consumed`: what the parser took in that read.
  void after_read(const RequestParser& parser, std::size_t consumed);

 private:
  std::size_t used_ = 0;
};

// The 4xx a parse error is answered with; nothing when the client simply
// went away (there is nobody to answer).
std::optional<HttpResponse> refusal_for(const boost::beast::error_code& error);

// The parts of a parsed request the routes read (the body is moved out),
// or a refusal for a request no HTTP/1.1 server may serve.
HttpRequest request_of(RequestParser& parser, std::optional<HttpResponse>& refusal);

}  // namespace otpd::http
