// Symbol visibility. liblamina_sdk is built with hidden visibility: only what is marked here is
// exported, and so only that is the plugin ABI.
//   LAMINA_API   — the SDK: classes and functions a plugin may use. Classes are marked as a whole
//                  so that their type identity (typeinfo, vtables) is one across the core and
//                  every plugin: a lamina::InputError thrown in a plugin is caught as one.
// The runtime's internals are compiled with hidden visibility too and marked with nothing: what
// a host program may call is marked LAMINA_EMBED_API (lamina/embed.hpp), in its own library.
#pragma once

#define LAMINA_API __attribute__((visibility("default")))
