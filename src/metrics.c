/**
 * @file metrics.c  Counters for /metrics and /status
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <re.h>
#include "metrics.h"


/** The process-wide counters */
struct metrics metrics;
