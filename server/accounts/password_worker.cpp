#include "accounts/password_worker.h"

#include "accounts/password.h"

namespace harvest::accounts {

bool PasswordWorker::verify(std::string encoded_hash, std::string password, std::function<void(bool)> done) {
  return worker_.try_post([this, encoded_hash = std::move(encoded_hash), password = std::move(password),
                           done = std::move(done)] {
    const bool matches = verify_password(encoded_hash, password);
    loop_.post([done, matches] { done(matches); });
  });
}

bool PasswordWorker::hash(std::string password, std::function<void(std::string)> done) {
  return worker_.try_post([this, password = std::move(password), done = std::move(done)] {
    std::string encoded = hash_password(password);
    loop_.post([done, encoded = std::move(encoded)]() mutable { done(std::move(encoded)); });
  });
}

}  // namespace harvest::accounts
