// The Python module signvote._signvote (pybind11): the PyTorch binding's
// native half. It sees tensors only as (data pointer, length), so it links
// no libtorch: Debian's torch and a pip torch both work. The Python half
// (python/signvote/torch.py) keeps the flat buffers and the optimizer API.
#include "signvote/external.h"
#include "signvote/sign_kernels.h"

#include "data/hash.h"
#include "worker/problem.h"  // the quadratic toy, for the tests' identical-gradient check

#include <mpi.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <spdlog/spdlog.h>

#include <cstring>

namespace py = pybind11;
using signvote::ExternalMemory;
using signvote::ExternalWorker;

namespace {

// MPI_Init_thread once per process (the module may be imported by a script
// that already initialised MPI, mpi4py say: then it is left alone).
bool g_we_initialised = false;

void ensure_mpi() {
  int up = 0;
  MPI_Initialized(&up);
  if (up) return;
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw std::runtime_error("signvote: MPI_Init_thread failed (run under mpirun)");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  spdlog::set_pattern(fmt::format("[%H:%M:%S.%e] [rank {}] [%l] %v", rank));
  g_we_initialised = true;
}

void finalize() {
  int up = 0, down = 0;
  MPI_Initialized(&up);
  MPI_Finalized(&down);
  if (g_we_initialised && up && !down) MPI_Finalize();
}

py::tuple world() {
  ensure_mpi();
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return py::make_tuple(rank, size);
}

float* as_floats(uintptr_t p) { return reinterpret_cast<float*>(p); }

std::unique_ptr<ExternalWorker> make_worker(const std::vector<std::string>& settings, uintptr_t params, uintptr_t grads,
                                            size_t dim, const std::string& device, uintptr_t stream) {
  ensure_mpi();
  if (device != "cpu" && device != "cuda") throw std::invalid_argument("device must be cpu or cuda, not " + device);
  ExternalMemory m{as_floats(params), as_floats(grads), dim,
                   device == "cuda" ? signvote::MemSpace::cuda : signvote::MemSpace::host,
                   reinterpret_cast<void*>(stream)};
  return std::make_unique<ExternalWorker>(settings, m);
}

// The C++ worker's quadratic toy, gradients only: the same RNG stream as
// `signvote train` gives worker `index`, at whatever x the caller holds.
class ToyGradients {
 public:
  ToyGradients(const std::string& config_path, int index)
      : cfg_(signvote::load_config(config_path)), p_(signvote::worker::make_problem(cfg_, index, 1)) {}
  float compute(uintptr_t x, uintptr_t g, size_t n, uint64_t step) {
    if (n != p_->params().size()) throw std::invalid_argument("ToyGradients: wrong length");
    std::memcpy(p_->params().data(), as_floats(x), 4 * n);
    const float loss = p_->compute(step).loss;
    std::memcpy(as_floats(g), p_->grads().data(), 4 * n);
    return loss;
  }

 private:
  signvote::Config cfg_;
  std::unique_ptr<signvote::worker::Problem> p_;
};

// The exception classes, and C++ exceptions -> them, with the cause and rank.
void register_errors(py::module_& m) {
  static py::exception<std::runtime_error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<signvote::JoinError> join_error(m, "JoinError", error.ptr());
  static py::exception<signvote::JoinError> no_server(m, "NoServer", join_error.ptr());
  static py::exception<signvote::RunStopped> run_stopped(m, "RunStopped", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const signvote::RunStopped& e) {
      py::object o = py::handle(run_stopped.ptr())(e.what());  // an instance, to carry the attributes
      o.attr("cause") = e.cause;
      o.attr("rank") = e.rank;
      PyErr_SetObject(run_stopped.ptr(), o.ptr());
    } catch (const signvote::JoinError& e) {
      auto& type = e.no_server ? no_server : join_error;
      PyErr_SetString(type.ptr(), e.what());
    } catch (const std::invalid_argument&) {
      throw;  // ValueError, as pybind11 maps it
    } catch (const std::runtime_error& e) {  // MPI, I/O: still a signvote.Error
      PyErr_SetString(error.ptr(), e.what());
    }
  });
}

bool mpi_running() {
  int up = 0, down = 0;
  MPI_Initialized(&up);
  MPI_Finalized(&down);
  return up && !down;
}

void bind_worker(py::module_& m) {
  py::class_<ExternalWorker>(m, "Worker")
      .def(py::init(&make_worker), py::arg("settings"), py::arg("params"), py::arg("grads"), py::arg("dim"),
           py::arg("device") = "cpu", py::arg("stream") = 0, py::call_guard<py::gil_scoped_release>())
      .def("step", &ExternalWorker::step, py::arg("loss") = 0.f, py::arg("correct") = 0, py::arg("samples") = 0,
           py::call_guard<py::gil_scoped_release>())
      .def("leave", &ExternalWorker::leave, py::call_guard<py::gil_scoped_release>())
      .def("resume", &ExternalWorker::resume, py::arg("step"), py::arg("elapsed_s"))
      .def("momentum_into", [](ExternalWorker& w, uintptr_t dst, size_t n) {
             const auto mom = w.momentum();
             if (n != mom.size()) throw std::invalid_argument("momentum_into: wrong length");
             std::memcpy(as_floats(dst), mom.data(), 4 * n);
           })
      .def("average", [](ExternalWorker& w, uintptr_t x, size_t n) { w.average(as_floats(x), n); },
           py::call_guard<py::gil_scoped_release>())
      .def("set_momentum", [](ExternalWorker& w, uintptr_t src, size_t n) { w.set_momentum(as_floats(src), n); })
      .def_property_readonly("rank", &ExternalWorker::rank)
      .def_property_readonly("worker_index", &ExternalWorker::worker_index)
      .def_property_readonly("workers", &ExternalWorker::workers)
      .def_property_readonly("servers", &ExternalWorker::servers)
      .def_property_readonly("steps_done", &ExternalWorker::steps_done)
      .def_property_readonly("finished", &ExternalWorker::finished)
      .def_property_readonly("max_steps", &ExternalWorker::max_steps)
      .def_property_readonly("elapsed_s", &ExternalWorker::elapsed_s)
      .def_property_readonly("config_yaml", &ExternalWorker::config_yaml);
}

}  // namespace

PYBIND11_MODULE(_signvote, m) {
  m.doc() = "signvote's native half: the worker's round on flat float32 buffers (see signvote.torch)";
  register_errors(m);
  m.def("world", &world, "(world rank, world size); initialises MPI if needed");
  m.def("finalize", &finalize, "MPI_Finalize, when this module initialised MPI");
  m.def("mpi_running", &mpi_running, "MPI is initialised and not finalised");
  m.def("abort", [](int code) { MPI_Abort(MPI_COMM_WORLD, code); }, "MPI_Abort: ends every rank of the job");
  m.def("hash_floats", [](uintptr_t p, size_t n) { return signvote::hash_floats(as_floats(p), n); },
        "the 64-bit weight hash of n floats at address p (the server's replica check)");
  m.def("isa", [] { return std::string(signvote::kernels::isa_name(signvote::kernels::ops_named("auto").isa)); },
        "the CPU sign kernels this machine runs (avx512 | avx2 | scalar)");
  bind_worker(m);
  py::class_<ToyGradients>(m, "ToyGradients")
      .def(py::init<const std::string&, int>(), py::arg("config"), py::arg("worker_index"))
      .def("compute", &ToyGradients::compute, py::arg("x"), py::arg("g"), py::arg("n"), py::arg("step"));
}
