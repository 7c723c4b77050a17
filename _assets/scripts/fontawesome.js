// Replaces the theme's 1.5 MB _static/scripts/fontawesome.js (Font Awesome's SVG-and-JavaScript
// kit, loaded on every page "so that users can add custom icons"): files in html_static_path are
// copied over the theme's (_assets is one, added by _ext/offline_assets.py). The book adds no icons of its own, and every icon the theme shows
// (header buttons, launch and download menus) is drawn by the Font Awesome web font that the
// theme's stylesheet already loads. tests/browser checks that those icons still show.
