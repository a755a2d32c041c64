// npm run lint:links: every relative link and #anchor in our Markdown must
// resolve, to a file or to a heading. Offline: links to other sites are not
// fetched, and `repository: false` keeps it from asking git for a remote.
import remarkValidateLinks from 'remark-validate-links';

export default { plugins: [[remarkValidateLinks, { repository: false }]] };
