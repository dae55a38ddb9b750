/*
 * bytes - fixed-width integers in stored keys and values
 *
 * Database records are byte strings: big-endian where keys must sort by
 * number (time-ordered indexes), little-endian in values. One copy of the
 * shifting, for every table. Threads: pure. p must hold 8 bytes.
 */
#ifndef AUP_BYTES_H
#define AUP_BYTES_H

#include <stdint.h>

void	bytes_put_be64(uint8_t *p, uint64_t v);
uint64_t bytes_get_be64(const uint8_t *p);
void	bytes_put_le64(uint8_t *p, uint64_t v);
uint64_t bytes_get_le64(const uint8_t *p);

#endif
