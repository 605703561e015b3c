#pragma once
// Password hashes: argon2id through libsodium (crypto_pwhash_str), at its "interactive" cost
// (64 MiB, ~0.1 s on this class of machine). Slow on purpose: call them off the loop thread
// (accounts::PasswordWorker).
#include <string>
#include <string_view>

namespace harvest::accounts {

// Call once before the others (sodium_init); false when libsodium cannot start.
bool init_password_hashing();

// The encoded hash (salt and parameters included); empty when hashing failed (out of memory).
std::string hash_password(std::string_view password);

// Whether `password` matches `encoded`. A malformed `encoded` is a mismatch.
bool verify_password(const std::string& encoded, std::string_view password);

// A hash of a random password, made once: signing in as an unknown user verifies against it,
// so an unknown username costs the same time as a wrong password.
const std::string& decoy_hash();

}  // namespace harvest::accounts
