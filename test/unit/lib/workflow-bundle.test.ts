import { workflowBundleHash } from '../../../lib/workflow-bundle';
import { WORKFLOW_INTERCEPTOR_MODULES, workflowInterceptorModules } from '../../../worker';

// The cached bundle's name is its inputs' hash: the same code finds the same file, other inputs another one.
describe('workflowBundleHash', () => {
  it('is the same for the same inputs', () => {
    expect(workflowBundleHash(WORKFLOW_INTERCEPTOR_MODULES)).toBe(workflowBundleHash(WORKFLOW_INTERCEPTOR_MODULES));
  });

  it('changes with the interceptor modules bundled', () => {
    expect(workflowBundleHash(workflowInterceptorModules(false))).not.toBe(workflowBundleHash(workflowInterceptorModules(true)));
  });
});
