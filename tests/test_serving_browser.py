"""The web page at / driven in a real browser (Debian's chromium + chromium-driver, Selenium):
upload a photo and read the class it shows, draw an item, see a bad file refused.

CI installs the browser (.ci/run) and must run these; elsewhere they skip when
Chromium or Selenium is missing.
"""

import os
import shutil

import numpy as np
import pytest

if not os.environ.get("CI"):
    pytest.importorskip("selenium", reason="pip install selenium")
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("apt-get install chromium chromium-driver", allow_module_level=True)
pytest.importorskip("starlette", reason="the serve extra: pip install '.[serve]'")

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from fmnistcpp import architectures  # noqa: E402
from fmnistcpp.datasets import fashion_mnist  # noqa: E402
from fmnistcpp.serving import preprocess as pp  # noqa: E402
from fmnistcpp.serving.browser import chromium  # noqa: E402
from fmnistcpp.serving.loadtest import start_server, stop_server  # noqa: E402
from fmnistcpp.serving.samples import photo_like  # noqa: E402

WAIT = 30  # seconds for an answer to show: generous for a loaded CI machine


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Seed 002's MLP after 2 epochs (~85% test accuracy), saved as the main job does."""
    import fmnistcpp

    fmnistcpp.utils.set_random_seed(2)
    model, cfg = architectures.build("seed002-mlp")
    architectures.compile_model(model, cfg)
    (x, y), (xt, yt) = fashion_mnist.load_data()
    x, y = architectures.prepare(x, y, cfg)
    # one engine thread: ~1 s; two threads on a busy 2-core machine took 20 s
    threads = fmnistcpp.utils.get_num_threads()
    fmnistcpp.utils.set_num_threads(1)
    try:
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    finally:
        fmnistcpp.utils.set_num_threads(threads)
    path = tmp_path_factory.mktemp("browser") / "model.keras"
    model.save(path)
    return model, path, xt[:50], yt[:50]


@pytest.fixture(scope="module")
def page(trained):
    _, path, _, _ = trained
    proc, base = start_server(path, "--threads", "1")
    try:
        with chromium() as driver:
            driver.get(base + "/")
            yield driver, base
    finally:
        stop_server(proc)


def wait_for_answer(driver, previous=""):
    WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.ID, "class-name").text not in ("", previous)
        or d.find_element(By.ID, "error").is_displayed()
    )
    assert not driver.find_element(By.ID, "error").is_displayed(), (
        driver.find_element(By.ID, "error").text)
    return driver.find_element(By.ID, "class-name").text


def seen_pixels(driver):
    """The 28 x 28 gray levels the page drew in its 'what the model sees' canvas."""
    data = driver.execute_script(
        "return Array.from(document.getElementById('seen').getContext('2d')"
        ".getImageData(0, 0, 28, 28).data);")
    return np.asarray(data, np.uint8).reshape(28, 28, 4)[..., 0]


def test_upload_a_photo_and_read_the_class(page, trained, tmp_path):
    driver, _ = page
    model, _, x, y = trained
    # a photo of the first test item the model gets right through the pipeline
    for i in range(len(x)):
        data = photo_like(x[i], size=(900, 1200), seed=i)
        image = pp.preprocess(data)
        probs = model.predict(pp.model_input(image[None], model.input_shape), verbose=0)[0]
        if probs.argmax() == y[i]:
            break
    photo = tmp_path / "item.jpg"
    photo.write_bytes(data)
    driver.find_element(By.ID, "file").send_keys(str(photo))
    shown = wait_for_answer(driver)
    assert shown == fashion_mnist.CLASS_NAMES[y[i]]
    rows = driver.find_elements(By.CSS_SELECTOR, "#top li")
    assert len(rows) == 5 and rows[0].find_element(By.CLASS_NAME, "name").text == shown
    assert rows[0].find_element(By.CLASS_NAME, "pct").text == f"{100 * probs.max():.1f}%"
    np.testing.assert_array_equal(seen_pixels(driver), image)


def test_draw_an_item_and_classify_it(page):
    driver, _ = page
    driver.find_element(By.ID, "clear").click()
    pad = driver.find_element(By.ID, "pad")
    w = pad.size["width"]
    # a pair of trousers: a waistband and two legs
    strokes = [[(-0.25, -0.4), (0.25, -0.4)], [(-0.22, -0.4), (-0.3, 0.42)],
               [(0.22, -0.4), (0.3, 0.42)], [(0.0, -0.4), (-0.05, 0.0)],
               [(0.0, -0.4), (0.05, 0.0)]]
    for stroke in strokes:
        chain = ActionChains(driver, duration=10).move_to_element_with_offset(
            pad, int(stroke[0][0] * w), int(stroke[0][1] * w)).click_and_hold()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for t in np.linspace(0, 1, 12)[1:]:
                chain.move_to_element_with_offset(pad, int((x0 + t * (x1 - x0)) * w),
                                                  int((y0 + t * (y1 - y0)) * w))
        chain.release().perform()
    previous = driver.find_element(By.ID, "class-name").text
    driver.find_element(By.ID, "classify-drawing").click()
    shown = wait_for_answer(driver, previous)
    assert shown in fashion_mnist.CLASS_NAMES
    seen = seen_pixels(driver)
    # the strokes, trimmed and fitted: light on black, touching top and bottom
    assert seen[0].max() > 128 and seen[27].max() > 128 and seen[:, :3].max() < 64
    assert 0.1 < (seen > 128).mean() < 0.6


def test_a_bad_file_shows_what_was_expected(page, tmp_path):
    driver, _ = page
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    driver.find_element(By.ID, "file").send_keys(str(bad))
    error = WebDriverWait(driver, WAIT).until(EC.visibility_of_element_located((By.ID, "error")))
    assert "not a PNG, JPEG or WebP" in error.text


def test_the_page_needs_nothing_from_elsewhere_and_labels_its_controls(page):
    driver, base = page
    driver.get(base + "/")
    resources = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);")
    assert resources and all(r.startswith(base + "/") for r in resources), resources
    for el in driver.find_elements(By.CSS_SELECTOR, "input"):
        assert driver.find_elements(By.CSS_SELECTOR, f"label[for='{el.get_attribute('id')}']")
    for el in driver.find_elements(By.CSS_SELECTOR, "button"):
        assert el.text.strip()
    assert driver.find_element(By.ID, "pad").get_attribute("aria-label")
