// LAMINA_INTERNAL marks what liblamina_sdk exports for Lamina's runtime alone: functions declared
// only in headers of core/sdk/ (never installed), so no plugin can call them and they are no
// part of the plugin ABI. They are exported, rather than compiled twice, so that the runtime and
// the SDK parse and report YAML with one copy of the code.
#pragma once

#define LAMINA_INTERNAL __attribute__((visibility("default")))
