#include "http/request_parse.hpp"

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

namespace otpd::http {

namespace bhttp = boost::beast::http;

void limit(RequestParser& parser) {
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
}

void HeaderBudget::before_read(RequestParser& parser) const {
  if (parser.is_header_done()) return;
  const std::size_t left = used_ < kMaxHeaderBytes ? kMaxHeaderBytes - used_ : 0;
  // Beast reads a limit of 0 as none at all.
  parser.header_limit(static_cast<std::uint32_t>(std::max<std::size_t>(left, 1)));
}

void HeaderBudget::after_read(const RequestParser& parser, std::size_t consumed) {
  // A read that completed the header consumed at most what was left.
  if (!parser.is_header_done()) used_ += consumed;
}

std::optional<HttpResponse> refusal_for(const boost::beast::error_code& error) {
  if (error == bhttp::error::end_of_stream || error == boost::asio::error::eof ||
      error == boost::asio::error::operation_aborted ||
      error == boost::asio::error::connection_reset) {
    return std::nullopt;
  }
  if (error == bhttp::error::header_limit || error == bhttp::error::buffer_overflow) {
    return plain(
        431, "the request's header is larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (error == bhttp::error::body_limit) {
    return plain(413,
                 "the request's body is larger than " + std::to_string(kMaxBodyBytes) + " bytes");
  }
  if (error.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    return plain(400, "malformed request: " + error.message());
  }
  return std::nullopt;  // a socket error: the client is gone
}

HttpRequest request_of(RequestParser& parser, std::optional<HttpResponse>& refusal) {
  auto& message = parser.get();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.host = std::string(message[bhttp::field::host]);
  request.origin = std::string(message[bhttp::field::origin]);
  request.authorization = std::string(message[bhttp::field::authorization]);
  request.body = std::move(message.body());
  if (message.version() == 11 && request.host.empty()) {
    refusal = plain(400, "an HTTP/1.1 request needs a Host header");
  } else if (message.version() != 11 && message.version() != 10) {
    refusal = plain(400, "otpd speaks HTTP/1.0 and HTTP/1.1");
  }
  return request;
}

}  // namespace otpd::http
