/**
 * @file board.h  The live board: a page and its event stream
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_BOARD_H
#define PARKBLF_BOARD_H

struct board;
struct app;
struct httpsrv_conn;
struct tenant;

/** The page, from src/board.html (generated at build time) */
extern const char board_page[];

int  board_alloc(struct board **bp, const struct app *app);
int  board_stream(struct board *b, struct httpsrv_conn *conn,
		  const struct tenant *tenant);
void board_orbit_changed(struct board *b, const char *tenant,
			 const char *name);
void board_map_changed(struct board *b, const char *tenant);
uint32_t board_count(const struct board *b);

#endif
