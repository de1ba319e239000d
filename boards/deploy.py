"""How a build's deploy/ folder runs on a board: the one command and the PYNQ images it needs.

From PYNQ 2.7 on, pynq lives in its own venv (``/usr/local/share/pynq-venv``), which
``/etc/profile.d/pynq_venv.sh`` activates; ``sudo python3`` would run the system interpreter,
which has no pynq. The driver needs root for the DMA buffers, so the command runs a root login
shell, activates the venv and goes back to the folder it was started in (``$PWD`` is expanded
by the user's shell before sudo runs).
"""

from __future__ import annotations

from boards._zynq import Board

PYNQ_VENV_SCRIPT = "/etc/profile.d/pynq_venv.sh"


def run_command(batch: int = 1000) -> str:
    """The shell command that runs the throughput test, typed inside the deploy/ folder."""
    return (
        f"sudo -i bash -c \"source {PYNQ_VENV_SCRIPT} && cd '$PWD' && "
        f'python3 -m driver --backend pynq --batch {batch}"'
    )


def board_run_text(board: Board, folder: str = "deploy/") -> str:
    """Where and how to run ``folder`` on ``board`` (deploy/README and ``bitfab bitstream``)."""
    return (
        f"copy {folder} to the {board.name}, whose SD card needs {board.pynq}, and run inside "
        f"it:\n"
        f"  {run_command()}"
    )


def deploy_readme(board: Board) -> str:
    """The text of deploy/README."""
    return (
        f"bitfab deploy folder for {board.name}: the driver package, accel.json, and\n"
        "bitfab.bit + bitfab.hwh once `bitfab bitstream` has put them here.\n"
        "On the board the driver needs only numpy and pynq.\n"
        f"To run it, {board_run_text(board, 'this folder')}\n"
    )
