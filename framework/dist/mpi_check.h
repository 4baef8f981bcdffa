// Checked MPI calls (internal to framework/dist). A failed call throws ft::Error
// naming the call, file:line and MPI's error string. The communicators switch
// their MPI communicators to MPI_ERRORS_RETURN so that failures reach this check
// instead of aborting inside the library without a word about where.
#pragma once
// The C API only: Open MPI's mpi.h otherwise pulls in the deprecated C++ bindings,
// whose symbols live in a library we do not link (libmpi_cxx).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include "framework/core/check.h"

namespace ft::dist::detail {

[[noreturn]] void throw_mpi_error(int code, const char* call, const char* file, int line);

}  // namespace ft::dist::detail

#define FT_MPI_CHECK(call)                                                      \
  do {                                                                          \
    int ft_mpi_status_ = (call);                                                \
    if (ft_mpi_status_ != MPI_SUCCESS) [[unlikely]]                             \
      ::ft::dist::detail::throw_mpi_error(ft_mpi_status_, #call, __FILE__, __LINE__); \
  } while (0)
