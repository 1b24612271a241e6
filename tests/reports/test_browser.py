import datetime

import pytest

from tests.builders import industry, make_declaration, make_employer


@pytest.mark.browser
def test_an_official_reads_the_dashboard_and_drills_down_from_a_chart(cast, page, browser_login):
    for workers in (25, 5):
        make_employer(industry=industry("1120"), workers=workers)
    make_declaration(make_employer(industry=industry("1120"), workers=40), declared_on=datetime.date.today())
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    browser_login(cast.bureau)

    page.goto(page.base + "/reports/")
    page.wait_for_selector("#gauge-t2024 canvas")
    assert page.locator("[data-figure=overall-included]").inner_text() == "3"
    assert not errors, errors  # nothing missing, no script error, nothing refused by the CSP

    # The middle of the first bar (西华池镇, 1 of 3 declared), located through ECharts itself.
    x, y = page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById("chart-townships"));
          return chart.convertToPixel({seriesIndex: 0}, [chart.getOption().series[0].data[0] / 2, 0]);
        }"""
    )
    page.locator("#chart-townships canvas").click(position={"x": x, "y": y})
    page.wait_for_url("**/employers/?**")
    assert "declaration_status" in page.url
