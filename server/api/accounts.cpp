#include "api/accounts.h"

#include <nlohmann/json.hpp>

#include "accounts/password.h"
#include "core/log.h"
#include "core/text.h"
#include "realtime/route_checks.h"

namespace harvest::api {
namespace {

using nlohmann::json;

std::string string_field(const json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json account_view(const accounts::Account& a, const StreamRegistry* streams = nullptr) {
  json j{{"id", a.id}, {"username", a.username}, {"name", a.name}, {"disabled", a.disabled},
         {"created_at", a.created_at_ms}};
  if (streams != nullptr) {
    int shows = 0;
    for (const StreamState* s : streams->all()) shows += s->record.owner == a.id ? 1 : 0;
    j["shows"] = shows;
  }
  return j;
}

// A display name: 1-100 bytes of text people may see (core/text.h).
std::string name_problem(const std::string& name) {
  if (name.empty() || name.size() > 100 || !text::is_display_text(name))
    return "'name' must be 1-100 bytes of text without control characters";
  return {};
}

HttpResponse signed_in(const accounts::Account& a, const std::string& token, bool tls, int status) {
  HttpResponse r = HttpResponse::json(status, json{{"account", account_view(a)}}.dump());
  r.headers.emplace_back("Set-Cookie", session_cookie(token, tls));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse busy() {
  HttpResponse r = HttpResponse::error(503, "busy", "too many sign-ins at once; try again in a moment");
  r.headers.emplace_back("Retry-After", "2");
  return r;
}

// Parses {username, password[, name]} and checks them; "" when fine.
std::string credentials_problem(const json& body, bool with_name) {
  if (auto p = accounts::username_problem(string_field(body, "username")); !p.empty()) return p;
  if (auto p = accounts::password_problem(string_field(body, "password")); !p.empty()) return p;
  if (with_name) return name_problem(string_field(body, "name"));
  return {};
}

json parse_object(const std::string& text) {
  json body = json::parse(text, nullptr, false);
  return body.is_object() ? body : json();
}

// Hashes the password on the worker, then adds the account (the username is checked again:
// another request may have taken it meanwhile) and answers through `reply`.
// `still_allowed` (if set) is asked again once the hash is made, on the loop: the invite may
// have been used meanwhile.
void create_account(AccountDeps deps, std::string username, std::string name, std::string password,
                    std::function<void(const accounts::Account*, HttpResponse)> done,
                    std::function<std::optional<HttpResponse>()> still_allowed = {}) {
  const bool queued = deps.passwords.hash(std::move(password), [deps, username, name, done, still_allowed](std::string hash) {
    if (hash.empty()) return done(nullptr, HttpResponse::error(500, "internal", "could not hash the password"));
    if (still_allowed)
      if (auto refusal = still_allowed()) return done(nullptr, std::move(*refusal));
    const accounts::Account* a = nullptr;
    if (deps.book.find_by_username(username) != nullptr)
      return done(nullptr, HttpResponse::error(409, "username_taken", "that username is taken"));
    if (auto st = deps.book.add(username, name, hash, now_ms(), a); !st) {
      log::error("account_not_stored").kv("reason", st.message());
      return done(nullptr, HttpResponse::error(500, "internal", "could not store the account"));
    }
    log::info("farmer_account_created").kv("account", a->id).kv("username", a->username);
    done(a, HttpResponse());
  });
  if (!queued) done(nullptr, busy());
}

}  // namespace

std::string session_cookie(const std::string& token, bool tls) {
  return std::string(realtime::kSessionCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
         std::to_string(accounts::kSessionTtlMs / 1000) + (tls ? "; Secure" : "");
}

std::string cleared_session_cookie(bool tls) {
  return std::string(realtime::kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" +
         (tls ? "; Secure" : "");
}

void register_account_routes(Router& router, const AccessConfig& access, StreamRegistry& streams, AccountDeps deps) {
  const auto admin = realtime::admin_only(access);

  router.add("POST", "/api/farmers", {.check = admin}, [deps](const HttpRequest& req) {
    const json body = parse_object(req.body);
    if (body.is_null()) return HttpResponse::error(400, "bad_json", "body must be a JSON object");
    if (auto p = credentials_problem(body, /*with_name=*/true); !p.empty()) return HttpResponse::error(400, "invalid", p);
    const std::string username = accounts::normalized_username(string_field(body, "username"));
    // Checked before spending a hash on it; again after (account creation is not atomic with it).
    if (deps.book.find_by_username(username) != nullptr)
      return HttpResponse::error(409, "username_taken", "that username is taken");
    return HttpResponse::later([deps, username, body](realtime::HttpReply reply) {
      create_account(deps, username, string_field(body, "name"), string_field(body, "password"),
                     [reply](const accounts::Account* a, HttpResponse refusal) {
                       reply(a != nullptr ? HttpResponse::json(201, account_view(*a).dump()) : std::move(refusal));
                     });
    });
  });

  router.add("GET", "/api/farmers", {.check = admin}, [deps, &streams](const HttpRequest&) {
    json list = json::array();
    for (const accounts::Account* a : deps.book.all()) list.push_back(account_view(*a, &streams));
    return HttpResponse::json(200, json{{"farmers", list}}.dump());
  });

  for (const bool disable : {true, false}) {
    router.add("POST", std::string("/api/farmers/{id}/") + (disable ? "disable" : "enable"), {.check = admin},
               [deps, disable](const HttpRequest& req) {
      const std::string& id = req.params.at("id");
      if (deps.book.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such farmer");
      if (auto st = deps.book.set_disabled(id, disable); !st) {
        log::error("account_not_stored").kv("account", id).kv("reason", st.message());
        return HttpResponse::error(500, "internal", "could not store the change");
      }
      log::info(disable ? "farmer_account_disabled" : "farmer_account_enabled").kv("account", id);
      return HttpResponse::json(200, account_view(*deps.book.find(id)).dump());
    });
  }

  router.add("POST", "/api/invites", {.check = admin}, [deps](const HttpRequest& req) {
    const json body = parse_object(req.body);
    if (body.is_null()) return HttpResponse::error(400, "bad_json", "body must be a JSON object");
    const std::string name = string_field(body, "name");
    if (auto p = name_problem(name); !p.empty()) return HttpResponse::error(400, "invalid", p);
    const json hours = body.value("ttl_hours", json(72));
    const int64_t max_hours = accounts::kMaxInviteTtlMs / 3'600'000;
    if (!hours.is_number_integer() || hours.get<int64_t>() < 1 || hours.get<int64_t>() > max_hours)
      return HttpResponse::error(400, "invalid", "'ttl_hours' must be an integer from 1 to " + std::to_string(max_hours));
    std::string code;
    const int64_t now = now_ms();
    if (auto st = deps.book.create_invite(name, hours.get<int64_t>() * 3'600'000, now, code); !st)
      return HttpResponse::error(500, "internal", "could not store the invite");
    log::info("farmer_invite_created").kv("name", name).kv("ttl_hours", hours.get<int64_t>());
    return HttpResponse::json(201, json{{"code", code}, {"path", "/join/" + code}, {"name", name},
                                        {"expires_at", now + hours.get<int64_t>() * 3'600'000}}.dump());
  });

  router.add("GET", "/api/invites/{code}", [deps](const HttpRequest& req) {
    const accounts::Invite* i = deps.book.find_invite(req.params.at("code"), now_ms());
    if (i == nullptr) return HttpResponse::error(404, "not_found", "this invite link is unknown, used or expired");
    return HttpResponse::json(200, json{{"name", i->name}, {"expires_at", i->expires_at_ms}}.dump());
  });

  router.add("POST", "/api/invites/{code}/accept", [deps](const HttpRequest& req) {
    const std::string code = req.params.at("code");
    const accounts::Invite* invite = deps.book.find_invite(code, now_ms());
    if (invite == nullptr) return HttpResponse::error(404, "not_found", "this invite link is unknown, used or expired");
    const json body = parse_object(req.body);
    if (body.is_null()) return HttpResponse::error(400, "bad_json", "body must be a JSON object");
    if (auto p = credentials_problem(body, /*with_name=*/false); !p.empty()) return HttpResponse::error(400, "invalid", p);
    const std::string username = accounts::normalized_username(string_field(body, "username"));
    if (deps.book.find_by_username(username) != nullptr)
      return HttpResponse::error(409, "username_taken", "that username is taken");
    return HttpResponse::later([deps, code, username, name = invite->name, body](realtime::HttpReply reply) {
      create_account(deps, username, name, string_field(body, "password"),
                     [deps, code, reply](const accounts::Account* a, HttpResponse refusal) {
        if (a == nullptr) return reply(std::move(refusal));
        // Used up only once the account exists: a refused attempt leaves the link working.
        if (auto st = deps.book.mark_invite_used(code); !st)
          log::error("invite_not_marked_used").kv("account", a->id).kv("reason", st.message());
        std::string token;
        if (auto st = deps.book.open_session(a->id, now_ms(), token); !st)
          return reply(HttpResponse::error(500, "internal", "could not store the session"));
        reply(signed_in(*a, token, deps.tls, 201));
      }, [deps, code]() -> std::optional<HttpResponse> {
        if (deps.book.find_invite(code, now_ms()) == nullptr)
          return HttpResponse::error(404, "not_found", "this invite link was used meanwhile");
        return std::nullopt;
      });
    });
  });

  router.add("POST", "/api/login", [deps](const HttpRequest& req) {
    const json body = parse_object(req.body);
    if (body.is_null()) return HttpResponse::error(400, "bad_json", "body must be a JSON object");
    const std::string username = accounts::normalized_username(string_field(body, "username"));
    const std::string password = string_field(body, "password");
    if (username.empty() || password.empty() || username.size() > 64 || password.size() > 128)
      return HttpResponse::error(400, "invalid", "'username' and 'password' are required");
    if (const int64_t wait_s = deps.throttle.admit(username, req.peer, now_ms()); wait_s > 0) {
      log::warn("login_throttled").kv("username", username).kv("peer", req.peer);
      HttpResponse r = HttpResponse::error(429, "too_many_attempts", "too many sign-in attempts; try again later");
      r.headers.emplace_back("Retry-After", std::to_string(wait_s));
      return r;
    }
    // An unknown username is checked against a decoy hash: the same work, the same answer.
    const accounts::Account* a = deps.book.find_by_username(username);
    std::string hash = a != nullptr ? a->password_hash : accounts::decoy_hash();
    std::string account_id = a != nullptr ? a->id : std::string();
    return HttpResponse::later([deps, username, password, hash, account_id](realtime::HttpReply reply) {
      const bool queued = deps.passwords.verify(hash, password, [deps, username, account_id, reply](bool matches) {
        const accounts::Account* a = account_id.empty() ? nullptr : deps.book.find(account_id);
        if (!matches || a == nullptr) {
          deps.throttle.failed(username, now_ms());
          log::info("login_failed").kv("username", username);
          return reply(HttpResponse::error(401, "bad_credentials", "wrong username or password"));
        }
        deps.throttle.succeeded(username);
        if (a->disabled) return reply(HttpResponse::error(403, "account_disabled", "this account has been disabled"));
        std::string token;
        if (auto st = deps.book.open_session(a->id, now_ms(), token); !st) {
          log::error("session_not_stored").kv("reason", st.message());
          return reply(HttpResponse::error(500, "internal", "could not store the session"));
        }
        log::info("login").kv("account", a->id);
        reply(signed_in(*a, token, deps.tls, 200));
      });
      if (!queued) reply(busy());
    });
  });

  router.add("POST", "/api/logout", [deps](const HttpRequest& req) {
    const std::string token = realtime::cookie_value(req.header("cookie"), realtime::kSessionCookie);
    const accounts::Account* a = token.empty() ? nullptr : deps.book.account_for_session(token, now_ms());
    Status st;
    if (a != nullptr && req.query.count("everywhere") != 0) st = deps.book.close_all_sessions(a->id);
    else if (!token.empty()) st = deps.book.close_session(token);
    if (!st) return HttpResponse::error(500, "internal", "could not end the session");
    HttpResponse r = HttpResponse::json(200, json{{"signed_out", true}}.dump());
    r.headers.emplace_back("Set-Cookie", cleared_session_cookie(deps.tls));
    return r;
  });

  router.add("GET", "/api/me", [&access, deps](const HttpRequest& req) {
    const Identity who = realtime::caller_of(access, req);
    if (who.role == Role::admin) return HttpResponse::json(200, json{{"role", "admin"}}.dump());
    const accounts::Account* a = who.role == Role::farmer ? deps.book.find(who.account_id) : nullptr;
    if (a == nullptr) return HttpResponse::error(401, "unauthorized", "not signed in");
    HttpResponse r = HttpResponse::json(200, json{{"role", "farmer"}, {"account", account_view(*a)}}.dump());
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  });
}

}  // namespace harvest::api
