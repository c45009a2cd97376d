/* mini - common: libarchive, loaded on first use.
 *
 * Only pull/unpack/load/save/export need libarchive (and its 17 transitive
 * libraries), so the binary does not link it: the modules that use it
 * (unpack/, store/archive.c) include this header instead of <archive.h>
 * directly.  It declares a table of function pointers, one per libarchive
 * entry point mini calls, and redirects each name to its slot, so the
 * calling code reads like plain libarchive.  mini_archive_load() fills the
 * table with dlopen("libarchive.so.13") + dlsym once per process; every
 * public function that reaches libarchive calls it first.
 *
 * Other modules never include this header (common.h does not), so they do
 * not need libarchive's headers.  To use another libarchive function, add it
 * to MINI_ARCHIVE_SYMBOLS and to the redirections below.
 */
#ifndef MINI_COMMON_ARCHIVE_LOADER_H
#define MINI_COMMON_ARCHIVE_LOADER_H

#include "common/common.h"

#include <archive.h>
#include <archive_entry.h>

/* The soname mini loads (libarchive's ABI since 3.0).  */
#define MINI_ARCHIVE_SONAME "libarchive.so.13"

#define MINI_ARCHIVE_SYMBOLS(X) \
  X (archive_entry_atime) \
  X (archive_entry_atime_is_set) \
  X (archive_entry_atime_nsec) \
  X (archive_entry_filetype) \
  X (archive_entry_free) \
  X (archive_entry_gid) \
  X (archive_entry_hardlink) \
  X (archive_entry_mtime) \
  X (archive_entry_mtime_is_set) \
  X (archive_entry_mtime_nsec) \
  X (archive_entry_new) \
  X (archive_entry_pathname) \
  X (archive_entry_perm) \
  X (archive_entry_rdevmajor) \
  X (archive_entry_rdevminor) \
  X (archive_entry_set_filetype) \
  X (archive_entry_set_gid) \
  X (archive_entry_set_hardlink) \
  X (archive_entry_set_mtime) \
  X (archive_entry_set_pathname) \
  X (archive_entry_set_perm) \
  X (archive_entry_set_rdevmajor) \
  X (archive_entry_set_rdevminor) \
  X (archive_entry_set_size) \
  X (archive_entry_set_symlink) \
  X (archive_entry_set_uid) \
  X (archive_entry_size) \
  X (archive_entry_size_is_set) \
  X (archive_entry_symlink) \
  X (archive_entry_uid) \
  X (archive_entry_xattr_add_entry) \
  X (archive_entry_xattr_count) \
  X (archive_entry_xattr_next) \
  X (archive_entry_xattr_reset) \
  X (archive_errno) \
  X (archive_error_string) \
  X (archive_filter_bytes) \
  X (archive_read_data) \
  X (archive_read_data_block) \
  X (archive_read_free) \
  X (archive_read_new) \
  X (archive_read_next_header) \
  X (archive_read_open) \
  X (archive_read_open_fd) \
  X (archive_read_support_filter_bzip2) \
  X (archive_read_support_filter_gzip) \
  X (archive_read_support_filter_xz) \
  X (archive_read_support_filter_zstd) \
  X (archive_read_support_format_empty) \
  X (archive_read_support_format_raw) \
  X (archive_read_support_format_tar) \
  X (archive_set_error) \
  X (archive_write_close) \
  X (archive_write_data) \
  X (archive_write_free) \
  X (archive_write_header) \
  X (archive_write_new) \
  X (archive_write_open_fd) \
  X (archive_write_set_bytes_in_last_block) \
  X (archive_write_set_format_pax_restricted)

struct mini_archive_syms
{
#define MINI_ARCHIVE_SLOT(name) __typeof__ (name) *name;
  MINI_ARCHIVE_SYMBOLS (MINI_ARCHIVE_SLOT)
#undef MINI_ARCHIVE_SLOT
};

/* The table; valid once mini_archive_load() returned 0.  */
extern struct mini_archive_syms mini_archive_syms;

/* Load libarchive (MINI_ARCHIVE_SONAME) and resolve every symbol of
   MINI_ARCHIVE_SYMBOLS into mini_archive_syms.  Thread-safe; the work is
   done once per process, later calls only report the first outcome.
   Returns 0, or < 0 with *ERR set (status 0, the message is complete):
   "libarchive.so.13 not found: install libarchive13 (apt-get install
   libarchive13)", "cannot load ...", or "... has no SYMBOL" for a library
   too old. */
int mini_archive_load (mini_error_t *err);

#ifndef MINI_ARCHIVE_NO_REDIRECT
#define archive_entry_atime (mini_archive_syms.archive_entry_atime)
#define archive_entry_atime_is_set (mini_archive_syms.archive_entry_atime_is_set)
#define archive_entry_atime_nsec (mini_archive_syms.archive_entry_atime_nsec)
#define archive_entry_filetype (mini_archive_syms.archive_entry_filetype)
#define archive_entry_free (mini_archive_syms.archive_entry_free)
#define archive_entry_gid (mini_archive_syms.archive_entry_gid)
#define archive_entry_hardlink (mini_archive_syms.archive_entry_hardlink)
#define archive_entry_mtime (mini_archive_syms.archive_entry_mtime)
#define archive_entry_mtime_is_set (mini_archive_syms.archive_entry_mtime_is_set)
#define archive_entry_mtime_nsec (mini_archive_syms.archive_entry_mtime_nsec)
#define archive_entry_new (mini_archive_syms.archive_entry_new)
#define archive_entry_pathname (mini_archive_syms.archive_entry_pathname)
#define archive_entry_perm (mini_archive_syms.archive_entry_perm)
#define archive_entry_rdevmajor (mini_archive_syms.archive_entry_rdevmajor)
#define archive_entry_rdevminor (mini_archive_syms.archive_entry_rdevminor)
#define archive_entry_set_filetype (mini_archive_syms.archive_entry_set_filetype)
#define archive_entry_set_gid (mini_archive_syms.archive_entry_set_gid)
#define archive_entry_set_hardlink (mini_archive_syms.archive_entry_set_hardlink)
#define archive_entry_set_mtime (mini_archive_syms.archive_entry_set_mtime)
#define archive_entry_set_pathname (mini_archive_syms.archive_entry_set_pathname)
#define archive_entry_set_perm (mini_archive_syms.archive_entry_set_perm)
#define archive_entry_set_rdevmajor (mini_archive_syms.archive_entry_set_rdevmajor)
#define archive_entry_set_rdevminor (mini_archive_syms.archive_entry_set_rdevminor)
#define archive_entry_set_size (mini_archive_syms.archive_entry_set_size)
#define archive_entry_set_symlink (mini_archive_syms.archive_entry_set_symlink)
#define archive_entry_set_uid (mini_archive_syms.archive_entry_set_uid)
#define archive_entry_size (mini_archive_syms.archive_entry_size)
#define archive_entry_size_is_set (mini_archive_syms.archive_entry_size_is_set)
#define archive_entry_symlink (mini_archive_syms.archive_entry_symlink)
#define archive_entry_uid (mini_archive_syms.archive_entry_uid)
#define archive_entry_xattr_add_entry (mini_archive_syms.archive_entry_xattr_add_entry)
#define archive_entry_xattr_count (mini_archive_syms.archive_entry_xattr_count)
#define archive_entry_xattr_next (mini_archive_syms.archive_entry_xattr_next)
#define archive_entry_xattr_reset (mini_archive_syms.archive_entry_xattr_reset)
#define archive_errno (mini_archive_syms.archive_errno)
#define archive_error_string (mini_archive_syms.archive_error_string)
#define archive_filter_bytes (mini_archive_syms.archive_filter_bytes)
#define archive_read_data (mini_archive_syms.archive_read_data)
#define archive_read_data_block (mini_archive_syms.archive_read_data_block)
#define archive_read_free (mini_archive_syms.archive_read_free)
#define archive_read_new (mini_archive_syms.archive_read_new)
#define archive_read_next_header (mini_archive_syms.archive_read_next_header)
#define archive_read_open (mini_archive_syms.archive_read_open)
#define archive_read_open_fd (mini_archive_syms.archive_read_open_fd)
#define archive_read_support_filter_bzip2 (mini_archive_syms.archive_read_support_filter_bzip2)
#define archive_read_support_filter_gzip (mini_archive_syms.archive_read_support_filter_gzip)
#define archive_read_support_filter_xz (mini_archive_syms.archive_read_support_filter_xz)
#define archive_read_support_filter_zstd (mini_archive_syms.archive_read_support_filter_zstd)
#define archive_read_support_format_empty (mini_archive_syms.archive_read_support_format_empty)
#define archive_read_support_format_raw (mini_archive_syms.archive_read_support_format_raw)
#define archive_read_support_format_tar (mini_archive_syms.archive_read_support_format_tar)
#define archive_set_error (mini_archive_syms.archive_set_error)
#define archive_write_close (mini_archive_syms.archive_write_close)
#define archive_write_data (mini_archive_syms.archive_write_data)
#define archive_write_free (mini_archive_syms.archive_write_free)
#define archive_write_header (mini_archive_syms.archive_write_header)
#define archive_write_new (mini_archive_syms.archive_write_new)
#define archive_write_open_fd (mini_archive_syms.archive_write_open_fd)
#define archive_write_set_bytes_in_last_block (mini_archive_syms.archive_write_set_bytes_in_last_block)
#define archive_write_set_format_pax_restricted (mini_archive_syms.archive_write_set_format_pax_restricted)
#endif /* MINI_ARCHIVE_NO_REDIRECT */

#endif
