// LAMINA_API marks SDK classes whose type identity must be shared between the core and plugins
// (plugins are built with hidden visibility): an exception of type lamina::InputError thrown in
// a plugin must be caught as lamina::InputError in the core.
#pragma once

#define LAMINA_API __attribute__((visibility("default")))
