// A lamina built without MPI (LAMINA_WITH_MPI=OFF) that mpirun starts N times refuses, once,
// instead of running N copies that would each write the same run folder. This executable
// compiles core/src/cluster.cpp without LAMINA_WITH_MPI, whatever the rest of the build chose,
// and plays the launcher by setting its variables.
#define BOOST_TEST_MODULE without_mpi
#include <cstdlib>

#include <boost/test/unit_test.hpp>
#include <string>

#include "lamina/error.hpp"
#include "runtime/cluster.hpp"

namespace {

struct Launched {
  Launched(const char* size, const char* rank) {
    ::setenv("OMPI_COMM_WORLD_SIZE", size, 1);
    ::setenv("OMPI_COMM_WORLD_RANK", rank, 1);
  }
  ~Launched() {
    ::unsetenv("OMPI_COMM_WORLD_SIZE");
    ::unsetenv("OMPI_COMM_WORLD_RANK");
  }
};

std::unique_ptr<lamina::Cluster> join() {
  int argc = 1;
  char name[] = "lamina";
  char* args[] = {name, nullptr};
  char** argv = args;
  return lamina::Cluster::join(argc, argv);
}

}  // namespace

BOOST_AUTO_TEST_CASE(alone_it_is_no_job) {
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  BOOST_TEST(join() == nullptr);
  const Launched one("1", "0");
  BOOST_TEST(join() == nullptr);
}

BOOST_AUTO_TEST_CASE(rank_0_of_several_says_why_and_how_to_mend_it) {
  for (const char* size : {"2", "3"}) {
    const Launched job(size, "0");
    try {
      join();
      BOOST_FAIL("joined a job of " << size << " without MPI");
    } catch (const lamina::InputError& e) {
      const std::string what = e.what();
      BOOST_TEST(what.find(std::string("started as one of ") + size + " MPI ranks") != std::string::npos, what);
      BOOST_TEST(what.find("built without MPI (LAMINA_WITH_MPI=OFF)") != std::string::npos, what);
      BOOST_TEST(what.find("install libopenmpi-dev and rebuild") != std::string::npos, what);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_other_ranks_stop_silently_with_status_2) {
  const Launched job("3", "2");
  try {
    join();
    BOOST_FAIL("rank 2 joined");
  } catch (const lamina::PeerFailed& e) {
    BOOST_TEST(e.code == 2);  // rank 0 prints the message, once
  }
}
