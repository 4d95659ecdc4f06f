"""Takes docs/serving.png: the serving page after it classified a photo-like picture.

    python docs/serving_screenshot.py [MODEL] [--item 0] [--out docs/serving.png]

MODEL defaults to seed 002's MLP trained here for 5 epochs. The picture is
fmnistcpp.serving.samples.photo_like of Fashion-MNIST test item --item, shown
on the page as a user would give it (the file chooser), in Debian's headless
Chromium (fmnistcpp.serving.browser).
"""

import argparse
import sys
import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from fmnistcpp import architectures, utils
from fmnistcpp.datasets import fashion_mnist
from fmnistcpp.serving.browser import chromium
from fmnistcpp.serving.loadtest import start_server, stop_server
from fmnistcpp.serving.samples import photo_like


def train(folder: Path) -> Path:
    utils.set_random_seed(0)
    model, cfg = architectures.build("seed002-mlp")
    architectures.compile_model(model, cfg)
    (x, y), _ = fashion_mnist.load_data()
    x, y = architectures.prepare(x, y, cfg)
    utils.set_num_threads(1)  # the machine may be shared: one thread does not wait on a second
    model.fit(x, y, batch_size=32, epochs=5, verbose=0)
    path = folder / "model.keras"
    model.save(path)
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?")
    p.add_argument("--item", type=int, default=0, help="Fashion-MNIST test image index")
    p.add_argument("--out", default=str(Path(__file__).with_name("serving.png")))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = Path(args.model) if args.model else train(tmp)
        (_, _), (xt, yt) = fashion_mnist.load_data()
        photo = tmp / "photo.jpg"
        photo.write_bytes(photo_like(xt[args.item], size=(900, 1200), seed=args.item))
        proc, base = start_server(model, "--threads", "1")
        try:
            with chromium(1100, 900) as driver:
                driver.get(base + "/")
                driver.find_element(By.ID, "file").send_keys(str(photo))
                WebDriverWait(driver, 30).until(
                    lambda d: d.find_element(By.ID, "class-name").text)
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(1100, height + 140)  # + the window frame
                driver.save_screenshot(args.out)
                shown = driver.find_element(By.ID, "class-name").text
        finally:
            stop_server(proc)
    print(f"{args.out}: test item {args.item} ({fashion_mnist.CLASS_NAMES[yt[args.item]]}) "
          f"shown as {shown!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
