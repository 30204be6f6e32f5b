-- Argo CD health of a hal9.ai Neuron, from what the Hal9 operator writes: status.observedGeneration
-- and the conditions Ready, Progressing, Degraded, Paused and Warning (reasons in
-- operator/src/status/reasons.ts; computeNeuronStatus in operator/src/status/neuron-status.ts).
-- Argo CD runs health scripts without Lua's string library: only base and table functions here.
local hs = { status = "Progressing", message = "Waiting for the Hal9 operator to reconcile the Neuron" }

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- A Warning the operator raised (privileged init containers, missing connections, an HPA that cannot
-- scale...): appended to a Healthy or Progressing message, so it is seen without kubectl.
local function withWarning(message)
  local warning = condition("Warning")
  if warning == nil or warning.status ~= "True" or warning.message == nil or warning.message == "" then
    return message
  end
  if message == nil or message == "" then
    return "Warning: " .. warning.message
  end
  return message .. "; Warning: " .. warning.message
end

-- As the operator reads the annotation (isPaused): any value but "false" pauses ("true", "yes", "1").
-- Argo CD's sandbox has no string library, so "false" is matched in its three usual cases: a value
-- the operator also reads as false ("fAlse", " false") shows Suspended here. The annotation is read
-- before the Paused condition, so a pause shows at once, before the operator has written it.
local function pausedByAnnotation(annotations)
  if annotations == nil or annotations["hal9.ai/paused"] == nil then
    return false
  end
  local v = annotations["hal9.ai/paused"]
  return v ~= "false" and v ~= "False" and v ~= "FALSE"
end

-- Paused first: a paused Neuron keeps its old observedGeneration on purpose. It stays Suspended (Argo
-- CD's word for paused) when it is also Degraded (past its progress deadline, its Hal9Cluster gone),
-- with Degraded's message after the pause's, since resuming alone does not fix that.
local paused = condition("Paused")
local progressing = condition("Progressing")
local degraded = condition("Degraded")
if (paused ~= nil and paused.status == "True") or pausedByAnnotation(obj.metadata.annotations) then
  hs.status = "Suspended"
  if paused ~= nil and paused.status == "True" and paused.message ~= nil then
    hs.message = paused.message
  else
    hs.message = "Reconciliation is paused by the hal9.ai/paused annotation"
  end
  if degraded ~= nil and degraded.status == "True" and degraded.message ~= nil then
    hs.message = hs.message .. "; Degraded: " .. degraded.message
  end
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the Hal9 operator to observe generation " .. generation
  return hs
end

-- Every failure the operator sees is Degraded=True (Ready=False alone is only a rollout under way).
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = degraded.message
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  -- Ready with a rollout still going on (old pods serving), or Retrying a write the apiserver failed
  -- for the moment: like a Deployment, not healthy yet.
  if progressing ~= nil and progressing.status == "True" then
    hs.message = withWarning(progressing.message)
    return hs
  end
  hs.status = "Healthy"
  hs.message = withWarning(ready.message)
  return hs
end

if ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
  -- Not ready and Retrying a write the apiserver failed for the moment: say which, as it may be why.
  if progressing ~= nil and progressing.reason == "Retrying" and progressing.message ~= nil then
    hs.message = hs.message .. "; " .. progressing.message
  end
end
hs.message = withWarning(hs.message)
return hs
