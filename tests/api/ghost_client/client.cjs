// Drives Ghost's own Content API client (@tryghost/content-api) against a running blog and
// prints what it got as one JSON document, for tests/test_ghost_client.py to check.
// Usage: GHOST_URL=http://127.0.0.1:PORT GHOST_KEY=<26 hex> node client.cjs
'use strict';

const GhostContentAPI = require('@tryghost/content-api');

const url = process.env.GHOST_URL;
const key = process.env.GHOST_KEY;

async function failure(promise) {
    try {
        await promise;
        return null;
    } catch (error) {
        return {name: error.name, type: error.type, message: error.message,
            status: error.response ? error.response.status : null};
    }
}

async function main() {
    const api = new GhostContentAPI({url, key, version: 'v5.0'});
    const out = {};

    const page1 = await api.posts.browse({limit: 2, include: 'authors,tags'});
    out.page1 = {slugs: page1.map(p => p.slug), pagination: page1.meta.pagination,
        primaryAuthor: page1[0].primary_author && page1[0].primary_author.slug,
        tags: page1.map(p => p.tags.map(t => t.slug))};
    const page2 = await api.posts.browse({limit: 2, page: 2});
    out.page2 = {slugs: page2.map(p => p.slug), pagination: page2.meta.pagination};
    const all = await api.posts.browse({limit: 'all', fields: 'id,slug,title,url,published_at'});
    out.all = all.map(p => ({id: p.id, slug: p.slug, title: p.title, url: p.url,
        published_at: p.published_at}));

    const bySlug = await api.posts.read({slug: 'second'}, {formats: ['html', 'plaintext']});
    out.bySlug = {isArray: Array.isArray(bySlug), slug: bySlug.slug, html: bySlug.html,
        plaintext: bySlug.plaintext, url: bySlug.url};
    const byId = await api.posts.read({id: all[0].id});
    out.byId = {slug: byId.slug, id: byId.id};

    out.filtered = (await api.posts.browse({filter: 'tag:news+author:ada'})).map(p => p.slug);
    out.listFilter = (await api.posts.browse({filter: 'slug:[first,third]'})).map(p => p.slug);
    out.negated = (await api.posts.browse({filter: 'tag:-news'})).map(p => p.slug);
    out.primaryTag = (await api.posts.browse({filter: 'primary_tag:guides'})).map(p => p.slug);
    out.featured = (await api.posts.browse({filter: 'featured:true'})).map(p => p.slug);
    out.after = (await api.posts.browse({filter: `published_at:>'${all[1].published_at}'`}))
        .map(p => p.slug);

    const pages = await api.pages.browse();
    out.pages = pages.map(p => p.slug);
    out.page = (await api.pages.read({slug: 'about'})).title;
    const tags = await api.tags.browse({include: 'count.posts'});
    out.tags = tags.map(t => ({slug: t.slug, posts: t.count.posts}));
    out.tag = (await api.tags.read({slug: 'news'})).name;
    const authors = await api.authors.browse({include: 'count.posts'});
    out.authors = authors.map(a => ({slug: a.slug, posts: a.count.posts, hasEmail: 'email' in a}));
    out.author = (await api.authors.read({slug: 'ada'})).name;
    const settings = await api.settings.browse();
    out.settings = {title: settings.title, url: settings.url};

    out.notFound = await failure(api.posts.read({slug: 'no-such-post'}));
    out.badFilter = await failure(api.posts.browse({filter: 'tag:(news'}));
    out.draft = await failure(api.posts.read({slug: 'draft'}));

    const headerClient = new GhostContentAPI({url, key, version: true});
    out.acceptVersion = (await headerClient.posts.browse({limit: 1})).length;
    const wrongKey = new GhostContentAPI({url, key: '0123456789abcdef0123456789', version: 'v5.0'});
    out.wrongKey = await failure(wrongKey.posts.browse());

    process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
    process.stderr.write(`${error.name}: ${error.message}\n${error.stack}\n`);
    process.exit(1);
});
