/*
 * callbacks - the libmilter callbacks of aup-milter
 *
 * Thin: each callback extracts what the MTA sent, calls the engine and
 * applies its verdict through one helper. Per-connection state is the
 * engine's session, kept with smfi_setpriv from connect to close.
 * Threads: libmilter runs callbacks of different connections concurrently;
 * nothing here lives in thread-local storage.
 */
#ifndef AUP_CALLBACKS_H
#define AUP_CALLBACKS_H

#include <libmilter/mfapi.h>

struct engine;

/* The engine every connection uses; set before smfi_main(). */
void	callbacks_set_engine(struct engine *eng);
/* Fill the smfiDesc for smfi_register(). */
void	callbacks_describe(struct smfiDesc *desc);

#endif
